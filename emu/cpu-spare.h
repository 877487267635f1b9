/* cpu-spare.h - whether a CPU is to spare now: runnable tasks (/proc/loadavg) against the CPUs online, the question KVM's halt polling asks before each turn. */
#ifndef VSOCKEMU_CPU_SPARE_H
#define VSOCKEMU_CPU_SPARE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * KVM polls a halted vCPU only while nothing else wants its CPU
 * (kvm_vcpu_can_poll() in virt/kvm/kvm_main.c: single_task_running() &&
 * !need_resched()). User space cannot ask that of its CPU; the nearest it
 * can ask cheaply is the machine's: the tasks runnable now, the caller
 * included (the fourth field of /proc/loadavg, nr_running()), against the
 * CPUs online. More runnable than CPUs: someone waits for one, and a poll
 * would take it from them.
 */
struct cpu_spare {
	int fd;			/* /proc/loadavg, or -1: never spare */
	unsigned long cpus;	/* online */
};

/*
 * Opens loadavg (NULL: /proc/loadavg; a test's file). Without it
 * cpu_spare_now says no: never poll.
 */
void cpu_spare_open(struct cpu_spare *c, const char *loadavg);
void cpu_spare_close(struct cpu_spare *c);

/* True if at most as many tasks are runnable as there are CPUs. */
bool cpu_spare_now(struct cpu_spare *c);

/*
 * The runnable tasks of /proc/loadavg's text ("0.20 0.18 0.12 3/80 1120"):
 * 0 and *running, or -1 if buf is not that.
 */
int cpu_spare_parse(const char *buf, size_t len, unsigned long *running);

#endif
