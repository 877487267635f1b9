# doc/local.mk - man pages and design notes.
dist_man_MANS += doc/vsockemu.1
EXTRA_DIST += doc/threat-model.md doc/architecture.md doc/api.md doc/events.md \
	doc/connection-states.md doc/trace-format.md \
	doc/performance.md \
	doc/replay.md \
	doc/fuzzing.md \
	doc/ci.md \
	doc/run.md \
	doc/ladder.md \
	doc/faults.md \
	doc/multi-vm.md
