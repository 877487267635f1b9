/* cmd-run.c - `vsockemu run`: an unmodified AF_VSOCK program as host or guest application. */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "options.h"
#include "vsockemu.h"

#define PRELOAD_NAME	"libvsockemu-preload.so"

static const char run_usage[] =
"usage: vsockemu run (--host UDS | --guest UDS) [--cid N] -- PROG [ARGS]\n"
"\n"
"Runs PROG unmodified with its AF_VSOCK sockets carried by the vsockemu\n"
"serve instance whose --uds is UDS (an LD_PRELOAD library does it):\n"
"\n"
"  --host UDS    PROG is a host program (CID 2): connect(CID, P) is a\n"
"                Firecracker CONNECT P on UDS (UDS.seqpacket for\n"
"                SOCK_SEQPACKET); bind(P) + listen() listens at UDS_P,\n"
"                where the guest's connections to host port P arrive\n"
"  --guest UDS   PROG runs in the simulated guest of that serve: its\n"
"                sockets become guest sockets (through UDS.guest), so its\n"
"                traffic crosses the rings and the device, and\n"
"                SO_VM_SOCKETS_BUFFER_SIZE is what the guest socket\n"
"                advertises (announced at once on a connected socket)\n"
"  --cid N       the guest's CID, as given to serve --cid (default 3)\n"
"  -h, --help    show this help\n"
"\n"
"Example:\n"
"  vsockemu serve --uds /tmp/v.sock --seqpacket &\n"
"  vsockemu run --guest /tmp/v.sock -- socat VSOCK-LISTEN:5000 -\n"
"  vsockemu run --host /tmp/v.sock -- socat - VSOCK-CONNECT:3:5000\n"
"\n"
"Exit status: PROG's; 2 for bad options, no vsockemu behind UDS, or a\n"
"PROG the library cannot reach (a static binary).\n";

struct run_opts {
	const char *role;
	const char *uds;
	uint64_t cid;
	char **argv;
};

static int
parse_opts(int argc, char **argv, struct run_opts *o)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "guest", required_argument, NULL, 'G' },
		{ "cid", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->cid = 3;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
		case 'G':
			o->role = c == 'H' ? "host" : "guest";
			o->uds = optarg;
			break;
		case 'c':
			if (opt_u64(optarg, UINT32_MAX - 1, &o->cid) < 0 ||
			    o->cid < 3) {
				fprintf(stderr, "vsockemu run: --cid '%s': want "
				    "a guest CID (3 or more)\n", optarg);
				return -1;
			}
			break;
		case 'h':
			fputs(run_usage, stdout);
			return 1;
		default:
			fputs("vsockemu run: see vsockemu run --help\n", stderr);
			return -1;
		}
	}
	if (o->role == NULL || optind >= argc) {
		fputs("vsockemu run: want --host UDS or --guest UDS, then "
		    "-- PROG [ARGS]\n", stderr);
		return -1;
	}
	o->argv = argv + optind;
	return 0;
}

/* PROG's file, searched in PATH as execvp() does; false if not found. */
static bool
find_prog(const char *prog, char *out, size_t len)
{
	const char *path = getenv("PATH"), *p, *colon;

	if (strchr(prog, '/') != NULL) {
		snprintf(out, len, "%s", prog);
		return access(out, X_OK) == 0;
	}
	for (p = path ? path : "/usr/bin:/bin"; *p != '\0'; p = colon + 1) {
		colon = strchr(p, ':');
		if (colon == NULL)
			colon = p + strlen(p);
		snprintf(out, len, "%.*s/%s", (int)(colon - p), p, prog);
		if (access(out, X_OK) == 0)
			return true;
		if (*colon == '\0')
			break;
	}
	return false;
}

/*
 * Is file an ELF executable without a program interpreter (PT_INTERP)?
 * Such a binary never loads the dynamic linker, so no preload library
 * reaches its sockets. Scripts and anything unreadable are not static.
 */
static bool
is_static_elf(const char *file)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	bool interp = false;
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	unsigned i;

	if (fd < 0)
		return false;
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(ph) || eh.e_phnum > 4096) {
		close(fd);
		return false;
	}
	for (i = 0; i < eh.e_phnum; i++) {
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff +
		    (uint64_t)i * sizeof(ph))) != (ssize_t)sizeof(ph))
			break;
		if (ph.p_type == PT_INTERP)
			interp = true;
	}
	close(fd);
	return !interp;
}

/* Is a vsockemu answering at path (of type)? */
static bool
endpoint_live(const char *path, int type)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return false;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return r == 0;
}

/*
 * The preload library: VSOCKEMU_PRELOAD if set, else the build tree's
 * copy next to an uninstalled vsockemu, else the installed one.
 */
static void
find_preload(char *out, size_t len)
{
	char self[PATH_MAX - 64], *slash;
	const char *env = getenv("VSOCKEMU_PRELOAD");
	ssize_t n;

	if (env != NULL && *env != '\0') {
		snprintf(out, len, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL)
			*slash = '\0';
		if ((slash = strrchr(self, '/')) != NULL &&
		    strcmp(slash, "/emu") == 0) {
			*slash = '\0';
			snprintf(out, len, "%s/preload/.libs/" PRELOAD_NAME,
			    self);
			if (access(out, R_OK) == 0)
				return;
		}
	}
	snprintf(out, len, "%s/" PRELOAD_NAME, PKGLIBDIR);
}

/* Sets up the environment the library reads, then becomes PROG. */
static void
exec_prog(const struct run_opts *o, const char *lib, const char *dir)
{
	char cid[24], *pre;
	const char *old = getenv("LD_PRELOAD");
	size_t len;

	snprintf(cid, sizeof(cid), "%llu", (unsigned long long)o->cid);
	len = strlen(lib) + (old ? strlen(old) : 0) + 2;
	pre = malloc(len);
	if (pre == NULL)
		_exit(127);
	snprintf(pre, len, "%s%s%s", lib, old && *old ? ":" : "",
	    old ? old : "");
	setenv("LD_PRELOAD", pre, 1);
	setenv("VSOCKEMU_ROLE", o->role, 1);
	setenv("VSOCKEMU_UDS", o->uds, 1);
	setenv("VSOCKEMU_GUEST_CID", cid, 1);
	setenv("VSOCKEMU_RUN_DIR", dir, 1);
	execvp(o->argv[0], o->argv);
	fprintf(stderr, "vsockemu run: %s: %s\n", o->argv[0], strerror(errno));
	_exit(127);
}

/* Checks what can be checked before starting PROG; exit status or 0. */
static int
preflight(const struct run_opts *o, const char *lib)
{
	char file[PATH_MAX], ep[PATH_MAX];

	if (!find_prog(o->argv[0], file, sizeof(file))) {
		fprintf(stderr, "vsockemu run: %s: not found\n", o->argv[0]);
		return 127;
	}
	if (is_static_elf(file)) {
		fprintf(stderr, "vsockemu run: %s is statically linked: no "
		    "preload library can reach its sockets (use a dynamic "
		    "build, or vsockemu vhost-user with a real guest)\n", file);
		return 2;
	}
	if (access(lib, R_OK) != 0) {
		fprintf(stderr, "vsockemu run: %s: %s\n", lib, strerror(errno));
		return 2;
	}
	snprintf(ep, sizeof(ep), "%s%s", o->uds,
	    strcmp(o->role, "guest") == 0 ? ".guest" : "");
	if (!endpoint_live(ep, SOCK_STREAM)) {
		fprintf(stderr, "vsockemu run: no vsockemu serve answers at "
		    "%s\n", ep);
		return 2;
	}
	return 0;
}

int
cmd_run(int argc, char **argv)
{
	struct run_opts o;
	char lib[PATH_MAX], dir[PATH_MAX];
	const char *tmp = getenv("TMPDIR");
	pid_t pid;
	int r, st;

	r = parse_opts(argc, argv, &o);
	if (r != 0)
		return r > 0 ? 0 : 2;
	find_preload(lib, sizeof(lib));
	if ((r = preflight(&o, lib)) != 0)
		return r;
	/* Guest-role listener files: a private directory, removed at the end. */
	snprintf(dir, sizeof(dir), "%s/vsockemu-run.XXXXXX",
	    tmp != NULL && *tmp != '\0' && strlen(tmp) < 60 ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "vsockemu run: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "vsockemu run: fork: %s\n", strerror(errno));
		rmdir(dir);
		return 1;
	}
	if (pid == 0)
		exec_prog(&o, lib, dir);
	/* PROG's terminal signals are its own: run only waits. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	rmdir(dir);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}
