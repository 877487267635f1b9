/* vhost-user-guard.c - a SIGBUS handler confined to guest memory a front-end shared. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"
#include "vhost-user-guard.h"

enum { SLOT_FREE, SLOT_ARMED, SLOT_LOST };

/*
 * The handler reads this table at any instruction of the program, so a
 * slot's range is written before its state says ARMED, and the state is
 * read (acquire) before its range.
 */
static struct {
	uintptr_t start;
	size_t len;
	int state;
} slots[VHU_GUARD_SLOTS];

static struct sigaction previous;
static bool installed;
static unsigned long losses;	/* ranges replaced so far */

/* Puts back whatever handled SIGBUS before us: the signal is not ours. */
static void
guard_decline(void)
{
	sigaction(SIGBUS, &previous, NULL);
	__atomic_store_n(&installed, false, __ATOMIC_RELEASE);
}

/*
 * A SIGBUS: if it is a fault inside a guarded range, replace the range
 * with private zeroed memory (mmap is async-signal-safe in practice: one
 * system call) and return to retry the access; else hand the signal on.
 */
static void
guard_on_sigbus(int sig, siginfo_t *si, void *uctx)
{
	uintptr_t at = (uintptr_t)si->si_addr;
	int saved = errno;
	unsigned i;

	(void)uctx;
	for (i = 0; si->si_code > 0 && i < VHU_GUARD_SLOTS; i++) {
		if (__atomic_load_n(&slots[i].state, __ATOMIC_ACQUIRE) ==
		    SLOT_FREE || at - slots[i].start >= slots[i].len)
			continue;
		if (mmap((void *)slots[i].start, slots[i].len,
		    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		    MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED)
			break;
		__atomic_store_n(&slots[i].state, SLOT_LOST, __ATOMIC_RELEASE);
		__atomic_add_fetch(&losses, 1, __ATOMIC_RELEASE);
		errno = saved;
		return;
	}
	if (si->si_code <= 0 && previous.sa_handler == SIG_IGN)
		return;		/* kill -BUS, ignored before we came */
	guard_decline();
	errno = saved;
	/* A fault happens again on return; a sent signal is sent again. */
	if (si->si_code <= 0)
		raise(sig);
}

/* Installs the handler unless it is in place. */
static int
guard_install(void)
{
	struct sigaction sa;

	if (__atomic_load_n(&installed, __ATOMIC_ACQUIRE))
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = guard_on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &previous) < 0)
		return -VSE_ERR_INVAL;
	__atomic_store_n(&installed, true, __ATOMIC_RELEASE);
	return 0;
}

int
vhu_guard_add(void *addr, size_t len)
{
	int i;

	long page = sysconf(_SC_PAGESIZE);

	if (guard_install() < 0)
		return -VSE_ERR_INVAL;
	/* The mapping, and any fault in it, covers whole pages. */
	if (page > 0 && len % (size_t)page != 0)
		len += (size_t)page - len % (size_t)page;
	for (i = 0; i < VHU_GUARD_SLOTS; i++) {
		if (__atomic_load_n(&slots[i].state, __ATOMIC_ACQUIRE) !=
		    SLOT_FREE)
			continue;
		slots[i].start = (uintptr_t)addr;
		slots[i].len = len;
		__atomic_store_n(&slots[i].state, SLOT_ARMED,
		    __ATOMIC_RELEASE);
		return i;
	}
	return -VSE_ERR_MEM_TOO_MANY;
}

bool
vhu_guard_lost(int handle)
{
	return handle >= 0 && handle < VHU_GUARD_SLOTS &&
	    __atomic_load_n(&slots[handle].state, __ATOMIC_ACQUIRE) ==
	    SLOT_LOST;
}

unsigned long
vhu_guard_losses(void)
{
	return __atomic_load_n(&losses, __ATOMIC_ACQUIRE);
}

void
vhu_guard_remove(int handle)
{
	if (handle >= 0 && handle < VHU_GUARD_SLOTS)
		__atomic_store_n(&slots[handle].state, SLOT_FREE,
		    __ATOMIC_RELEASE);
}
