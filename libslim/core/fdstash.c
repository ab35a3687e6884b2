/* The io_uring behind fdstash.h, driven with raw system calls (no
 * liburing: Debian 12's 2.3 knows neither IORING_OP_FIXED_FD_INSTALL nor
 * registered ring fds).
 *
 * One mutex serialises the ring: it is held while submission queue
 * entries are written, across the one io_uring_enter that submits them and
 * until their completions are read. Every operation used here completes
 * inline (no io-wq worker thread ever appears in the app), so the enter
 * never sleeps.
 *
 * Each thread registers the ring (IORING_REGISTER_RING_FDS) at its first
 * use and enters it by that index from then on: no fd lookup, and no fstat
 * to make sure the fd is still ours (the app may close or reuse libslim's
 * numbers; io_uring_enter on someone else's ring would submit its entries).
 * The registration, like our mappings, keeps the ring alive whatever
 * happens to its fd; the fd is checked (by inode) only when a thread
 * registers. A thread that cannot register (the app's own rings took all
 * its 16 places) checks the fd before each enter. */
#define _GNU_SOURCE
#include "fdstash.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdtable.h"
#include "highfd.h"

/* Newer than the uapi headers of Debian 12 (Linux 6.1); names of our own,
 * as newer headers define the originals (one of them in an enum). */
#define OP_FIXED_FD_INSTALL 54	      /* Linux 6.8 */
#define FIXED_FD_NO_CLOEXEC (1U << 0) /* sqe->install_fd_flags */
#define RING_ENTRIES 64		      /* a put: one update, or up to 64 closes */

enum {
	R_OFF,	 /* no stash in this process (not tried, refused, too old a kernel) */
	R_MADE,	 /* the ring exists, not yet mapped and without its table */
	R_READY, /* usable */
	R_LOST,	 /* a new ring is needed (forked child; a failed renewal) */
};

struct ring {
	int fd;
	uint64_t ino;
	struct io_uring_params p;
	void *map;
	size_t map_len;
	struct io_uring_sqe *sqes;
	size_t sqes_len;
	unsigned *sq_head, *sq_tail, *sq_array, *cq_head, *cq_tail;
	struct io_uring_cqe *cqes;
	unsigned sq_mask, cq_mask, tail;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
/* All under mu, but for the constructor, which runs before any thread. */
static int state = R_OFF;
static struct ring r = {.fd = -1};
static uint32_t gen = 1;
/* R_LOST in a forked child: r.fd is the parent's ring, whose number the
 * child's own ring takes over. */
static bool inherited;

/* This thread's registration: index and the generation it is for (0:
 * none). t_no_reg_gen: registering failed in that generation, use the fd. */
static __thread int t_idx __attribute__((tls_model("initial-exec"))) = -1;
static __thread uint32_t t_gen __attribute__((tls_model("initial-exec")));
static __thread uint32_t t_no_reg_gen __attribute__((tls_model("initial-exec")));

static const int32_t minus_one = -1;
/* SLIM_URING=1: io_uring is tried even under a seccomp filter. */
static bool forced;

/* False when a seccomp filter is in force (and io_uring is not forced): a
 * filter may answer io_uring's system calls with SIGSYS (a filter's default
 * action often kills), and container profiles refuse io_uring anyway.
 * Checked when a ring is made and at every put, so that a process that
 * sandboxes itself (or a forked child that does, before its first socket)
 * leaves io_uring alone from then on. */
static bool seccomp_allows(void)
{
	return forced || syscall(SYS_prctl, PR_GET_SECCOMP, 0, 0, 0, 0) != 2;
}

static int sys_setup(unsigned entries, struct io_uring_params *p)
{
	return (int)syscall(SYS_io_uring_setup, entries, p);
}

static int sys_enter(int fd, unsigned submit, unsigned wait, unsigned flags)
{
	return (int)syscall(SYS_io_uring_enter, fd, submit, wait, flags, NULL, 0);
}

static int sys_register(int fd, unsigned op, void *arg, unsigned n)
{
	return (int)syscall(SYS_io_uring_register, fd, op, arg, n);
}

/* Makes a ring: on fd number `at` (replacing what is there) if at >= 0,
 * else in libslim's high range. Returns 0 (state R_MADE) or -1 (errno).
 * Raw system calls, none through libslim's own hooks (whose libc functions
 * are looked up on first use): it runs in every process start. */
static int ring_make(int at)
{
	struct io_uring_params p;
	int fd, base, high;

	if (!seccomp_allows()) {
		errno = EPERM;
		return -1;
	}
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CLAMP | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN;
	fd = sys_setup(RING_ENTRIES, &p);
	if (fd < 0)
		return -1;
	if (at >= 0 && fd != at) {
		if (syscall(SYS_dup3, fd, at, O_CLOEXEC) < 0) {
			int e = errno;

			syscall(SYS_close, fd);
			errno = e;
			return -1;
		}
		syscall(SYS_close, fd);
		fd = at;
	} else if (at < 0) {
		base = slim_high_base();
		if (base >= 0 && fd < base &&
		    (high = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, base)) >= 0) {
			syscall(SYS_close, fd);
			fd = high;
		}
	}
	r = (struct ring){.fd = fd, .ino = fd_inode(fd), .p = p};
	state = R_MADE;
	return 0;
}

/* Forgets the ring: unmaps it (a forked child has no mappings of the
 * parent's ring, MADV_DONTFORK, and no pointers to them) and closes its fd
 * if close_fd and it is still ours. Its files are released once nothing
 * else (a thread's registration) holds it. */
static void ring_drop(bool close_fd)
{
	if (r.map)
		munmap(r.map, r.map_len);
	if (r.sqes)
		munmap(r.sqes, r.sqes_len);
	if (close_fd && r.fd >= 0 && fd_inode(r.fd) == r.ino)
		syscall(SYS_close, r.fd);
	r = (struct ring){.fd = -1};
}

/* Maps the ring made at start, gives it its table and checks the kernel
 * has what we need. Returns 0, or -1 (the ring is of no use). */
static int ring_setup(void)
{
	struct {
		struct io_uring_probe p;
		struct io_uring_probe_op ops[OP_FIXED_FD_INSTALL + 1];
	} pr;
	struct io_uring_rsrc_register rr = {.flags = IORING_RSRC_REGISTER_SPARSE};
	struct io_uring_params *p = &r.p;
	struct rlimit rl;
	size_t sq_len = p->sq_off.array + p->sq_entries * sizeof(unsigned),
	       cq_len = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
	char *m;

	memset(&pr, 0, sizeof(pr));
	if (sys_register(r.fd, IORING_REGISTER_PROBE, &pr, OP_FIXED_FD_INSTALL + 1) < 0 ||
	    pr.p.last_op < OP_FIXED_FD_INSTALL ||
	    !(pr.ops[OP_FIXED_FD_INSTALL].flags & IO_URING_OP_SUPPORTED) ||
	    !(p->features & IORING_FEAT_SINGLE_MMAP))
		return -1;
	r.map_len = sq_len > cq_len ? sq_len : cq_len;
	m = mmap(NULL, r.map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r.fd,
		 IORING_OFF_SQ_RING);
	if (m == MAP_FAILED) {
		r.map = NULL;
		return -1;
	}
	r.map = m;
	r.sqes_len = p->sq_entries * sizeof(struct io_uring_sqe);
	r.sqes = mmap(NULL, r.sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r.fd,
		      IORING_OFF_SQES);
	if (r.sqes == MAP_FAILED) {
		r.sqes = NULL;
		return -1;
	}
	/* A forked child must never write into the parent's ring. */
	madvise(r.map, r.map_len, MADV_DONTFORK);
	madvise(r.sqes, r.sqes_len, MADV_DONTFORK);
	r.sq_head = (unsigned *)(m + p->sq_off.head);
	r.sq_tail = (unsigned *)(m + p->sq_off.tail);
	r.sq_array = (unsigned *)(m + p->sq_off.array);
	r.sq_mask = *(unsigned *)(m + p->sq_off.ring_mask);
	r.cq_head = (unsigned *)(m + p->cq_off.head);
	r.cq_tail = (unsigned *)(m + p->cq_off.tail);
	r.cq_mask = *(unsigned *)(m + p->cq_off.ring_mask);
	r.cqes = (struct io_uring_cqe *)(m + p->cq_off.cqes);
	r.tail = *r.sq_tail;
	/* The table may not be larger than the soft fd limit. */
	rr.nr = FDSTASH_SLOTS;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rr.nr)
		rr.nr = (unsigned)rl.rlim_cur;
	if (rr.nr == 0 || sys_register(r.fd, IORING_REGISTER_FILES2, &rr, sizeof(rr)) < 0)
		return -1;
	return 0;
}

/* A new ring in place of the current one (lost, or its fd taken by the
 * app): a forked child's takes over the inherited number, anything else
 * goes to the high range. The old generation's slots are gone. Returns 0,
 * or -1 (errno; state R_LOST, or R_OFF if trying again cannot help). */
static int ring_renew(void)
{
	int at = -1;

	if (inherited && r.fd >= 0 && fd_inode(r.fd) == r.ino)
		at = r.fd;
	ring_drop(!inherited);
	inherited = false;
	gen++;
	if (ring_make(at) == 0)
		return 0;
	state = (errno == EMFILE || errno == ENFILE || errno == ENOMEM) ? R_LOST : R_OFF;
	return -1;
}

/* True once the ring is ready for use; sets it up on first need. Under mu. */
static bool ring_ready(void)
{
	int saved = errno;

	if (state == R_READY)
		return true;
	if (state == R_LOST && ring_renew() < 0)
		goto no;
	/* Closed by the app before its first use: a new one. */
	if (state == R_MADE && fd_inode(r.fd) != r.ino) {
		ring_drop(false);
		if (ring_make(-1) < 0) {
			state = R_OFF;
			goto no;
		}
	}
	if (state != R_MADE)
		goto no;
	if (ring_setup() < 0) {
		ring_drop(true);
		state = R_OFF;
		goto no;
	}
	state = R_READY;
	errno = saved;
	return true;
no:
	errno = saved;
	return false;
}

/* The fd or registered index to enter the ring by, with the enter flag
 * that goes with it; -1 if the ring's fd is not ours any more. Under mu. */
static int ring_target(unsigned *flags)
{
	struct io_uring_rsrc_update u;

	*flags = 0;
	if (t_gen == gen && t_idx >= 0) {
		*flags = IORING_ENTER_REGISTERED_RING;
		return t_idx;
	}
	if (fd_inode(r.fd) != r.ino)
		return -1;
	if (t_no_reg_gen == gen)
		return r.fd;
	if (t_idx >= 0) {
		/* This thread's registration of an older ring (harmless if
		 * there is none: a forked child starts with none). */
		u = (struct io_uring_rsrc_update){.offset = (unsigned)t_idx};
		sys_register(r.fd, IORING_UNREGISTER_RING_FDS, &u, 1);
		t_idx = -1;
		t_gen = 0;
	}
	u = (struct io_uring_rsrc_update){.offset = ~0U, .data = (uint64_t)r.fd};
	if (sys_register(r.fd, IORING_REGISTER_RING_FDS, &u, 1) != 1) {
		t_no_reg_gen = gen;
		return r.fd;
	}
	t_idx = (int)u.offset;
	t_gen = gen;
	*flags = IORING_ENTER_REGISTERED_RING;
	return t_idx;
}

/* The next submission queue entry, zeroed. Under mu; at most RING_ENTRIES
 * per submission. */
static struct io_uring_sqe *sqe_next(uint64_t user_data)
{
	unsigned i = r.tail & r.sq_mask;
	struct io_uring_sqe *s = &r.sqes[i];

	memset(s, 0, sizeof(*s));
	s->user_data = user_data;
	r.sq_array[i] = i;
	r.tail++;
	return s;
}

/* Submits the n entries written since the last submission and waits for
 * their completions: res[user_data] = the result of each. Returns 0, or -1
 * (errno) if the ring cannot be used: then none of them ran, and the ring
 * is lost. Under mu. */
static int submit(unsigned n, int *res)
{
	unsigned head = __atomic_load_n(r.sq_head, __ATOMIC_ACQUIRE), flags, done = 0, got = 0;
	int target = ring_target(&flags), e;

	if (target >= 0) {
		__atomic_store_n(r.sq_tail, r.tail, __ATOMIC_RELEASE);
		do
			e = sys_enter(target, n, n, IORING_ENTER_GETEVENTS | flags);
		while (e < 0 && errno == EINTR);
		done = __atomic_load_n(r.sq_head, __ATOMIC_ACQUIRE) - head;
	} else {
		errno = EBADF;
	}
	if (done < n) {
		/* Entries the kernel did not take must not linger for the
		 * next submission. */
		r.tail = head + done;
		__atomic_store_n(r.sq_tail, r.tail, __ATOMIC_RELEASE);
	}
	if (done == 0) {
		state = R_LOST;
		return -1;
	}
	while (got < done) {
		unsigned h = *r.cq_head, t = __atomic_load_n(r.cq_tail, __ATOMIC_ACQUIRE);

		for (; h != t && got < done; h++, got++) {
			struct io_uring_cqe *c = &r.cqes[h & r.cq_mask];

			if (c->user_data < n)
				res[c->user_data] = c->res;
		}
		__atomic_store_n(r.cq_head, h, __ATOMIC_RELEASE);
		if (got < done &&
		    sys_enter(target, 0, done - got, IORING_ENTER_GETEVENTS | flags) < 0 &&
		    errno != EINTR) {
			state = R_LOST;
			return -1;
		}
	}
	return 0;
}

int fdstash_put(const int *fds, size_t n, int *slots, uint32_t *gen_out)
{
	int32_t idx[FDSTASH_SLOTS];
	int res[FDSTASH_SLOTS], stored, saved = errno;
	struct io_uring_sqe *s;

	if (n > FDSTASH_SLOTS) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&mu);
	if (state != R_OFF && !seccomp_allows()) {
		/* A filter came after the ring: give it up, slots and all. */
		ring_drop(!inherited);
		gen++;
		state = R_OFF;
	}
	if (!ring_ready()) {
		pthread_mutex_unlock(&mu);
		errno = ENOSYS;
		return -1;
	}
	*gen_out = gen;
	if (n == 0) {
		pthread_mutex_unlock(&mu);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		idx[i] = fds[i];
	/* Into the first free slots; the kernel writes them into idx. */
	s = sqe_next(0);
	s->opcode = IORING_OP_FILES_UPDATE;
	s->fd = -1;
	s->off = IORING_FILE_INDEX_ALLOC;
	s->addr = (uint64_t)(uintptr_t)idx;
	s->len = (unsigned)n;
	if (submit(1, res) < 0) {
		pthread_mutex_unlock(&mu);
		errno = ENOSYS;
		return -1;
	}
	if (res[0] < 0) {
		/* Nothing taken (ENFILE: no free slot): the fds stay. */
		pthread_mutex_unlock(&mu);
		errno = -res[0];
		return -1;
	}
	stored = res[0];
	/* Then the fds go, every one of them, in one more enter. */
	for (size_t i = 0; i < n; i++) {
		s = sqe_next(i);
		s->opcode = IORING_OP_CLOSE;
		s->fd = fds[i];
	}
	if (submit((unsigned)n, res) < 0)
		for (size_t i = 0; i < n; i++)
			syscall(SYS_close, fds[i]);
	for (int i = 0; i < stored; i++)
		slots[i] = idx[i];
	pthread_mutex_unlock(&mu);
	errno = saved;
	return stored;
}

int fdstash_install(int slot, uint32_t g, bool cloexec)
{
	struct io_uring_sqe *s;
	int res[2], saved = errno, fd;

	pthread_mutex_lock(&mu);
	if (g != gen || state != R_READY) {
		pthread_mutex_unlock(&mu);
		errno = ESTALE;
		return -1;
	}
	s = sqe_next(0);
	s->opcode = OP_FIXED_FD_INSTALL;
	s->fd = slot;
	s->flags = IOSQE_FIXED_FILE | IOSQE_IO_LINK;
	s->rw_flags = cloexec ? 0 : FIXED_FD_NO_CLOEXEC;
	/* Runs only if the install did: then the fd is the file's only
	 * reference besides the app's own copies. */
	s = sqe_next(1);
	s->opcode = IORING_OP_FILES_UPDATE;
	s->fd = -1;
	s->off = (unsigned)slot;
	s->addr = (uint64_t)(uintptr_t)&minus_one;
	s->len = 1;
	if (submit(2, res) < 0) {
		pthread_mutex_unlock(&mu);
		errno = EIO;
		return -1;
	}
	fd = res[0];
	if (fd >= 0 && res[1] != 1) {
		struct io_uring_rsrc_update u = {.offset = (unsigned)slot,
						 .data = (uint64_t)(uintptr_t)&minus_one};

		/* The slot still holds the app's socket: the app's close
		 * would not close it. Empty it another way, or give up the
		 * whole ring (closing it releases every slot). */
		if (sys_register(r.fd, IORING_REGISTER_FILES_UPDATE, &u, 1) != 1) {
			ring_drop(true);
			gen++;
			state = R_LOST;
		}
	}
	pthread_mutex_unlock(&mu);
	if (fd < 0) {
		errno = -fd;
		return -1;
	}
	errno = saved;
	return fd;
}

void fdstash_clear(const int *slots, size_t n, uint32_t g)
{
	int res[FDSTASH_SLOTS], saved = errno;

	if (n == 0 || n > FDSTASH_SLOTS)
		return;
	pthread_mutex_lock(&mu);
	if (g == gen && state == R_READY) {
		for (size_t i = 0; i < n; i++) {
			struct io_uring_sqe *s = sqe_next(i);

			s->opcode = IORING_OP_FILES_UPDATE;
			s->fd = -1;
			s->off = (unsigned)slots[i];
			s->addr = (uint64_t)(uintptr_t)&minus_one;
			s->len = 1;
		}
		(void)submit((unsigned)n, res);
	}
	pthread_mutex_unlock(&mu);
	errno = saved;
}

void fdstash_forget_in_child(void)
{
	pthread_mutex_init(&mu, NULL);
	/* Not mapped here (MADV_DONTFORK): the addresses may be reused. */
	r.map = NULL;
	r.sqes = NULL;
	if (state == R_MADE || state == R_READY) {
		state = R_LOST;
		inherited = true;
	}
}

void fdstash_range_closed(unsigned int first, unsigned int last)
{
	int saved = errno;

	pthread_mutex_lock(&mu);
	if ((state == R_MADE || state == R_READY || (state == R_LOST && inherited)) && r.fd >= 0 &&
	    (unsigned int)r.fd >= first && (unsigned int)r.fd <= last && fd_inode(r.fd) != r.ino) {
		inherited = false; /* its number is gone with it */
		(void)ring_renew();
	}
	pthread_mutex_unlock(&mu);
	errno = saved;
}

void fdstash_start(bool force)
{
	int saved = errno;

	forced = force;
	(void)ring_make(-1);
	errno = saved;
}
