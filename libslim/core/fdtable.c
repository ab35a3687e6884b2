/* Per-fd state: a two-level table indexed by fd. The top level is one array
 * of chunk pointers sized for the kernel's fs.nr_open; chunks of
 * FDT_CHUNK entries are mapped on first use and published with a CAS, so no
 * fixed fd cap and no lock. Each entry is a small seqlock: a writer (the
 * thread operating on that fd) bumps gen to odd, stores the fields, bumps it
 * to even; readers retry on a change. */
#define _GNU_SOURCE
#include "fdtable.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FDT_CHUNK 1024
#define FDT_DEFAULT_MAX (1 << 20)
/* A reader that finds an entry mid-write spins this many times, then yields
 * the CPU (the writer, another thread, may have been preempted inside its
 * few stores) up to FDT_MAX_YIELDS times before it gives up and treats the
 * fd as plain. Giving up at once is right only when the writer is the
 * reader's own thread, interrupted by the signal handler that reads. */
#define FDT_SPINS 64
#define FDT_MAX_YIELDS 10000

/* The payload union travels as FDT_WORDS words; a reservation also has a
 * word of its own, so that close can take it with one atomic exchange. */
#define FDT_WORDS 3
_Static_assert(sizeof(((struct fd_state *)0)->u) <= FDT_WORDS * sizeof(uint64_t),
	       "fd_state payload fits the table entry");

struct fd_entry {
	_Atomic uint32_t gen;
	_Atomic uint32_t kind; /* enum fd_kind | FDT_V6 */
	_Atomic uint64_t ino;
	_Atomic uint64_t payload[FDT_WORDS];
	_Atomic uint64_t resv;	 /* fd << 32 | low 32 bits of its inode; 0: none */
	_Atomic uint32_t gate;	 /* fdtable_gate */
	_Atomic uint32_t marks;	 /* fdtable_mark */
	_Atomic int32_t waitset; /* fdtable_put_waitset: fd + 1; 0: none */
};

#define FDT_V6 0x100u

/* The kind in an entry's kind word (the low byte; FDT_V6 above it). */
static inline enum fd_kind kind_of(uint32_t word)
{
	return (enum fd_kind)(word & 0xffu);
}

typedef _Atomic(struct fd_entry *) chunk_ptr;
/* Published with release after top_len is set. */
static chunk_ptr *_Atomic top;
static size_t top_len;
static pthread_once_t top_once = PTHREAD_ONCE_INIT;
/* Set while this thread is inside fdtable_set's write section. */
static __thread bool writing __attribute__((tls_model("initial-exec")));

/* fs.nr_open read with raw system calls (no stdio, no hooks). */
static size_t read_nr_open(void)
{
	char buf[32];
	size_t v = 0;
	long n;
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/sys/fs/nr_open", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return FDT_DEFAULT_MAX;
	n = syscall(SYS_read, fd, buf, sizeof(buf) - 1);
	syscall(SYS_close, fd);
	for (long i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
		v = v * 10 + (size_t)(buf[i] - '0');
	return v ? v : FDT_DEFAULT_MAX;
}

/* Only the forking thread survives a fork: an entry left mid-write (odd
 * gen) by another thread of the parent can never complete. Its fields may
 * be torn, so forget it: plain, gen even again. And no thread of the child
 * is in a listener's accept: every gate is open. */
void fdtable_fork_child(void)
{
	chunk_ptr *t = atomic_load_explicit(&top, memory_order_acquire);

	for (size_t hi = 0; t && hi < top_len; hi++) {
		struct fd_entry *chunk = atomic_load_explicit(&t[hi], memory_order_acquire);

		for (size_t i = 0; chunk && i < FDT_CHUNK; i++) {
			uint32_t g = atomic_load_explicit(&chunk[i].gen, memory_order_relaxed);

			atomic_store_explicit(&chunk[i].gate, 0, memory_order_relaxed);
			if (g & 1) {
				atomic_store_explicit(&chunk[i].kind, FD_PLAIN,
						      memory_order_relaxed);
				atomic_store_explicit(&chunk[i].gen, g + 1, memory_order_release);
			}
		}
	}
}

static void top_init(void)
{
	int saved = errno;
	size_t len = (read_nr_open() + FDT_CHUNK - 1) / FDT_CHUNK;
	/* Untouched pages of this reservation cost nothing. */
	void *p = mmap(NULL, len * sizeof(chunk_ptr), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p != MAP_FAILED) {
		top_len = len;
		atomic_store_explicit(&top, (chunk_ptr *)p, memory_order_release);
	}
	errno = saved;
}

/* The entry for fd, mapping its chunk if create; NULL if none. */
static struct fd_entry *entry(int fd, bool create)
{
	struct fd_entry *chunk, *fresh = NULL;
	chunk_ptr *t;
	size_t hi;

	if (fd < 0)
		return NULL;
	/* Only a writer sets the table up: a reader before that finds
	 * nothing, and stays async-signal-safe (close). */
	if (create)
		pthread_once(&top_once, top_init);
	t = atomic_load_explicit(&top, memory_order_acquire);
	hi = (size_t)fd / FDT_CHUNK;
	if (!t || hi >= top_len)
		return NULL;
	chunk = atomic_load_explicit(&t[hi], memory_order_acquire);
	if (!chunk && create) {
		int saved = errno;
		void *p = mmap(NULL, FDT_CHUNK * sizeof(struct fd_entry), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		errno = saved;
		if (p == MAP_FAILED)
			return NULL;
		fresh = p;
		if (atomic_compare_exchange_strong_explicit(
			&t[hi], &chunk, fresh, memory_order_acq_rel, memory_order_acquire)) {
			chunk = fresh;
		} else {
			munmap(fresh, FDT_CHUNK * sizeof(struct fd_entry));
			errno = saved;
		}
	}
	return chunk ? &chunk[(size_t)fd % FDT_CHUNK] : NULL;
}

struct slim_resv *fd_state_resv(struct fd_state *st)
{
	switch (st->kind) {
	case FD_HOST_BOUND:
		return &st->u.host_bound.resv;
	case FD_LISTENER:
		return &st->u.listener.resv;
	default:
		return NULL;
	}
}

/* The kinds that may still be swapped carry the app's options, as the
 * first member of their payload. */
#define KINDS_WITH_OPTS                                                                            \
	(1u << FD_CONTAINER | 1u << FD_POOLED | 1u << FD_HOST_BOUND | 1u << FD_CLIENT)
_Static_assert(offsetof(struct fd_container, opts) == 0 && offsetof(struct fd_pooled, opts) == 0 &&
		   offsetof(struct fd_host_bound, opts) == 0 &&
		   offsetof(struct fd_client, opts) == 0,
	       "opts leads every payload that has it");

uint32_t *fd_state_opts(struct fd_state *st)
{
	return (KINDS_WITH_OPTS >> st->kind) & 1u ? (uint32_t *)(void *)&st->u : NULL;
}

static uint64_t pack_resv(struct slim_resv r)
{
	return r.ino ? (uint64_t)(uint32_t)r.fd << 32 | r.ino : 0;
}

static struct slim_resv unpack_resv(uint64_t v)
{
	struct slim_resv r = {.fd = (int)(v >> 32), .ino = (uint32_t)v};

	return r;
}

/* Closes the wait set an entry still holds: its listener record is being
 * replaced or forgotten. One load when there is none. */
static void drop_waitset(struct fd_entry *e)
{
	int32_t w;

	if (!atomic_load_explicit(&e->waitset, memory_order_relaxed))
		return;
	w = atomic_exchange(&e->waitset, 0);
	if (w > 0) {
		int saved = errno;

		syscall(SYS_close, w - 1);
		errno = saved;
	}
}

/* Whether e already records st's listener (the same socket and container
 * side): the wait set made for those two queues stays with the record
 * that replaces it (a new SO_RCVTIMEO: listener_timeo.h). */
static bool same_listener(struct fd_entry *e, const struct fd_state *st)
{
	return st->kind == FD_LISTENER &&
	       kind_of(atomic_load_explicit(&e->kind, memory_order_relaxed)) == FD_LISTENER &&
	       atomic_load_explicit(&e->ino, memory_order_relaxed) == st->ino &&
	       atomic_load_explicit(&e->resv, memory_order_relaxed) ==
		   pack_resv(st->u.listener.resv);
}

int fdtable_set(int fd, const struct fd_state *st)
{
	struct fd_entry *e = entry(fd, st->kind != FD_PLAIN);
	struct fd_state copy = *st;
	struct slim_resv *resv = fd_state_resv(&copy);
	uint64_t words[FDT_WORDS] = {0};
	uint32_t g;

	if (!e)
		return st->kind == FD_PLAIN ? 0 : -1;
	if (!same_listener(e, st))
		drop_waitset(e);
	memcpy(words, &st->u, sizeof(st->u));
	writing = true;
	atomic_signal_fence(memory_order_seq_cst);
	g = atomic_load_explicit(&e->gen, memory_order_relaxed);
	atomic_store_explicit(&e->gen, g | 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&e->ino, st->ino, memory_order_relaxed);
	for (int i = 0; i < FDT_WORDS; i++)
		atomic_store_explicit(&e->payload[i], words[i], memory_order_relaxed);
	atomic_store_explicit(&e->resv, resv ? pack_resv(*resv) : 0, memory_order_relaxed);
	atomic_store_explicit(&e->kind, (uint32_t)st->kind | (st->v6 ? FDT_V6 : 0),
			      memory_order_relaxed);
	atomic_store_explicit(&e->gen, (g | 1) + 1, memory_order_release);
	atomic_signal_fence(memory_order_seq_cst);
	writing = false;
	return 0;
}

void fdtable_get(int fd, struct fd_state *st)
{
	struct fd_entry *e = entry(fd, false);

	*st = (struct fd_state){.kind = FD_PLAIN};
	if (!e)
		return;
	for (int tries = 0; tries < FDT_SPINS + FDT_MAX_YIELDS; tries++) {
		uint32_t g1 = atomic_load_explicit(&e->gen, memory_order_acquire);
		uint64_t words[FDT_WORDS], r;
		struct slim_resv *resv;
		uint32_t k;

		if (tries > 0) {
			if (writing)
				break; /* our own interrupted write: it cannot finish */
			if (tries >= FDT_SPINS)
				sched_yield();
		}
		if (g1 & 1)
			continue;
		k = atomic_load_explicit(&e->kind, memory_order_relaxed);
		st->ino = atomic_load_explicit(&e->ino, memory_order_relaxed);
		for (int i = 0; i < FDT_WORDS; i++)
			words[i] = atomic_load_explicit(&e->payload[i], memory_order_relaxed);
		r = atomic_load_explicit(&e->resv, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&e->gen, memory_order_relaxed) != g1)
			continue;
		st->kind = kind_of(k);
		st->v6 = (k & FDT_V6) != 0;
		memcpy(&st->u, words, sizeof(st->u));
		/* The reservation's own word is the truth: close may have
		 * taken it since the payload was written. */
		resv = fd_state_resv(st);
		if (resv)
			*resv = unpack_resv(r);
		return;
	}
	*st = (struct fd_state){.kind = FD_PLAIN};
}

enum fd_kind fdtable_kind(int fd)
{
	chunk_ptr *t = atomic_load_explicit(&top, memory_order_acquire);
	struct fd_entry *chunk;
	size_t hi;

	if (fd < 0 || !t)
		return FD_PLAIN;
	hi = (size_t)fd / FDT_CHUNK;
	if (hi >= top_len)
		return FD_PLAIN;
	chunk = atomic_load_explicit(&t[hi], memory_order_acquire);
	if (!chunk)
		return FD_PLAIN;
	return kind_of(
	    atomic_load_explicit(&chunk[(size_t)fd % FDT_CHUNK].kind, memory_order_acquire));
}

void fdtable_each(int first, int last, void (*fn)(int fd, const struct fd_state *st, void *arg),
		  void *arg)
{
	chunk_ptr *t = atomic_load_explicit(&top, memory_order_acquire);

	if (!t || first < 0 || last < first)
		return;
	for (size_t hi = (size_t)first / FDT_CHUNK; hi < top_len && hi <= (size_t)last / FDT_CHUNK;
	     hi++) {
		struct fd_entry *chunk = atomic_load_explicit(&t[hi], memory_order_acquire);

		if (!chunk)
			continue;
		for (size_t i = 0; i < FDT_CHUNK; i++) {
			size_t fd = hi * FDT_CHUNK + i;
			struct fd_state st;

			if (fd < (size_t)first || fd > (size_t)last)
				continue;
			if (kind_of(atomic_load_explicit(&chunk[i].kind, memory_order_relaxed)) ==
			    FD_PLAIN)
				continue;
			fdtable_get((int)fd, &st);
			if (st.kind != FD_PLAIN)
				fn((int)fd, &st, arg);
		}
	}
}

_Atomic uint32_t *fdtable_gate(int fd)
{
	struct fd_entry *e = entry(fd, false);

	return e ? &e->gate : NULL;
}

bool fdtable_put_waitset(int fd, int ep)
{
	struct fd_entry *e = entry(fd, false);
	int32_t none = 0;

	return e && ep >= 0 && atomic_compare_exchange_strong(&e->waitset, &none, (int32_t)ep + 1);
}

int fdtable_waitset(int fd)
{
	struct fd_entry *e = entry(fd, false);

	return e ? atomic_load_explicit(&e->waitset, memory_order_acquire) - 1 : -1;
}

void fdtable_mark(int fd, uint32_t mark)
{
	struct fd_entry *e = entry(fd, true);

	if (e && (atomic_load_explicit(&e->marks, memory_order_relaxed) & mark) != mark)
		atomic_fetch_or(&e->marks, mark);
}

bool fdtable_marked(int fd, uint32_t mark)
{
	struct fd_entry *e = entry(fd, false);

	return e && (atomic_load_explicit(&e->marks, memory_order_relaxed) & mark);
}

void fdtable_unmark(int fd, uint32_t mark)
{
	struct fd_entry *e = entry(fd, false);

	if (e && (atomic_load_explicit(&e->marks, memory_order_relaxed) & mark))
		atomic_fetch_and(&e->marks, ~mark);
}

void fdtable_clear(int fd)
{
	/* No pthread_once here: before the table exists there is nothing to
	 * clear, and close must stay async-signal-safe. */
	chunk_ptr *t = atomic_load_explicit(&top, memory_order_acquire);
	struct fd_entry *chunk;
	size_t hi;

	if (fd < 0 || !t)
		return;
	hi = (size_t)fd / FDT_CHUNK;
	if (hi >= top_len)
		return;
	chunk = atomic_load_explicit(&t[hi], memory_order_acquire);
	if (!chunk)
		return;
	atomic_store_explicit(&chunk[(size_t)fd % FDT_CHUNK].kind, FD_PLAIN, memory_order_release);
	drop_waitset(&chunk[(size_t)fd % FDT_CHUNK]);
}

struct slim_resv fdtable_take_resv(int fd)
{
	chunk_ptr *t = atomic_load_explicit(&top, memory_order_acquire);
	struct slim_resv none = {.fd = -1, .ino = 0};
	struct fd_entry *chunk;
	size_t hi;

	if (fd < 0 || !t)
		return none;
	hi = (size_t)fd / FDT_CHUNK;
	if (hi >= top_len)
		return none;
	chunk = atomic_load_explicit(&t[hi], memory_order_acquire);
	if (!chunk ||
	    !atomic_load_explicit(&chunk[(size_t)fd % FDT_CHUNK].resv, memory_order_relaxed))
		return none;
	return unpack_resv(atomic_exchange(&chunk[(size_t)fd % FDT_CHUNK].resv, 0));
}

int fd_tcp_state(int fd)
{
	/* Only the leading state byte: the kernel copies no more than asked,
	 * and a cgroup getsockopt program on host sockets then handles 8
	 * bytes, not the whole struct tcp_info. */
	union {
		struct tcp_info ti;
		uint8_t head[8];
	} u;
	socklen_t tl = sizeof(u.head);
	int saved = errno;

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &u, &tl) != 0 || tl < 1)
		u.ti.tcpi_state = TCP_CLOSE;
	errno = saved;
	return u.ti.tcpi_state;
}

uint64_t fd_inode(int fd)
{
	struct stat sb;
	int saved = errno;
	uint64_t ino = fstat(fd, &sb) == 0 ? (uint64_t)sb.st_ino : 0;

	errno = saved;
	return ino;
}

bool fd_is_tcp(int fd)
{
	int v = 0, saved = errno;
	socklen_t len = sizeof(v);
	bool tcp = getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &len) == 0 && v == IPPROTO_TCP;

	errno = saved;
	return tcp;
}

void fdtable_lookup(int fd, struct fd_state *st)
{
	fdtable_get(fd, st);
	if (st->kind == FD_PLAIN)
		return;
	if (st->ino ? fd_inode(fd) != st->ino : !fd_is_tcp(fd)) {
		fdtable_clear(fd);
		*st = (struct fd_state){.kind = FD_PLAIN};
	}
}
