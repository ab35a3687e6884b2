#define _GNU_SOURCE
#include "listener_env.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <elf.h>

#include "exec_env.h"
#include "fdtable.h"
#include "merge.h"
#include "real.h"

#define PREFIX LISTENERS_VAR "="

/* Decimal digits of v into buf (no NUL); returns their count. */
static size_t put_uint(char *buf, unsigned long v)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

/* No snprintf: this runs in the exec hooks, which may be in a vfork
 * child, where only async-signal-safe code belongs. */
size_t listener_env_format(char *buf, size_t cap, const struct listener_pair *p, size_t n)
{
	size_t len = strlen(PREFIX), done = 0;

	if (cap < len + 1) {
		if (cap)
			buf[0] = '\0';
		return 0;
	}
	memcpy(buf, PREFIX, len);
	for (size_t i = 0; i < n; i++) {
		char one[4 * 24];
		size_t l = 0;

		if (p[i].fd < 0 || p[i].cfd < 0)
			continue;
		if (done)
			one[l++] = ',';
		l += put_uint(one + l, (unsigned long)p[i].fd);
		one[l++] = ':';
		l += put_uint(one + l, p[i].ino);
		one[l++] = ':';
		l += put_uint(one + l, (unsigned long)p[i].cfd);
		one[l++] = ':';
		l += put_uint(one + l, p[i].cino);
		if (len + l + 1 > cap)
			break;
		memcpy(buf + len, one, l);
		len += l;
		done++;
	}
	buf[done ? len : 0] = '\0';
	return done;
}

/* A decimal number at *s up to max, advancing *s. */
static bool get_uint(const char **s, unsigned long max, unsigned long *v)
{
	const char *p = *s;
	unsigned long x = 0;

	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9') {
		x = x * 10 + (unsigned long)(*p - '0');
		if (x > max)
			return false;
		p++;
	}
	*s = p;
	*v = x;
	return true;
}

size_t listener_env_parse(const char *val, struct listener_pair *out, size_t max)
{
	const char *s = val;
	size_t n = 0;

	while (s && *s && n < max) {
		unsigned long fd, ino, cfd, cino;

		if (!get_uint(&s, INT_MAX, &fd) || *s++ != ':' || !get_uint(&s, UINT32_MAX, &ino) ||
		    *s++ != ':' || !get_uint(&s, INT_MAX, &cfd) || *s++ != ':' ||
		    !get_uint(&s, UINT32_MAX, &cino) || (*s != ',' && *s != '\0'))
			break;
		out[n++] = (struct listener_pair){(int)fd, (uint32_t)ino, (int)cfd, (uint32_t)cino};
		if (*s == ',')
			s++;
	}
	return n;
}

struct prepare {
	struct listener_pair p[LISTENER_ENV_MAX / 16];
	size_t n;
};

static void collect(int fd, const struct fd_state *st, void *arg)
{
	struct prepare *pr = arg;
	struct slim_resv c = st->u.listener.resv;
	int fl;

	if (st->kind != FD_LISTENER || !c.ino || pr->n == sizeof(pr->p) / sizeof(pr->p[0]))
		return;
	fl = fcntl(fd, F_GETFD);
	if (fl < 0 || (fl & FD_CLOEXEC))
		return; /* not inherited */
	pr->p[pr->n++] = (struct listener_pair){fd, (uint32_t)st->ino, c.fd, c.ino};
}

bool listener_env_target_dynamic(const char *path, int fd)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	bool dynamic = true;
	int f = fd;

	if (f < 0 && path)
		f = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return true;
	if (pread(f, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh) &&
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
	    eh.e_phentsize == sizeof(ph) && eh.e_phnum < 256) {
		dynamic = false;
		for (int i = 0; i < eh.e_phnum && !dynamic; i++)
			dynamic = pread(f, &ph, sizeof(ph),
					(off_t)(eh.e_phoff + (Elf64_Off)i * sizeof(ph))) !=
				      (ssize_t)sizeof(ph) ||
				  ph.p_type == PT_INTERP;
	}
	if (f != fd)
		real_close(f);
	return dynamic;
}

const char *listener_env_which(const char *file, char *buf, size_t cap)
{
	const char *path = getenv("PATH"), *p;
	size_t fl = strlen(file);

	if (strchr(file, '/'))
		return file;
	if (!path)
		path = "/bin:/usr/bin"; /* glibc's execvp without PATH */
	for (p = path; *p; p += *p == ':') {
		const char *end = strchr(p, ':');
		size_t dl = end ? (size_t)(end - p) : strlen(p);

		if (dl + 1 + fl + 1 <= cap) {
			memcpy(buf, p, dl);
			buf[dl] = '/';
			memcpy(buf + dl + 1, file, fl + 1);
			if (dl == 0)
				memmove(buf, buf + 1, fl + 1); /* "" is the current directory */
			if (syscall(SYS_faccessat, AT_FDCWD, buf, X_OK, 0) == 0)
				return buf;
		}
		p += dl;
	}
	return NULL;
}

void listener_env_prepare(char *entry, size_t cap, bool preloads)
{
	struct prepare pr;
	size_t done;
	int saved = errno;

	entry[0] = '\0';
	if (!preloads || !merge_any())
		return;
	pr.n = 0;
	fdtable_each(0, INT_MAX, collect, &pr);
	done = listener_env_format(entry, cap, pr.p, pr.n);
	/* Only the pairs that went in are inherited with their container
	 * sides (the format keeps the first ones). */
	for (size_t i = 0; i < done; i++)
		(void)fcntl(pr.p[i].cfd, F_SETFD, 0);
	errno = saved;
}

void listener_env_restore(const char *entry)
{
	struct listener_pair p[LISTENER_ENV_MAX / 16];
	size_t n;
	int saved = errno;

	if (!entry[0])
		return;
	n = listener_env_parse(entry + strlen(PREFIX), p, sizeof(p) / sizeof(p[0]));
	for (size_t i = 0; i < n; i++)
		(void)fcntl(p[i].cfd, F_SETFD, FD_CLOEXEC);
	errno = saved;
}

/* fd is a listening TCP socket whose inode's low bits are ino. */
static bool listening(int fd, uint32_t ino)
{
	struct stat sb;
	int v = 0;
	socklen_t vl = sizeof(v);

	return fstat(fd, &sb) == 0 && S_ISSOCK(sb.st_mode) && (uint32_t)sb.st_ino == ino &&
	       getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) == 0 && v;
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

/* Adopts pair p if it checks out: both fds the sockets named, listening,
 * the host listener's (virtual) port the container side's. */
static void adopt(const struct listener_pair *p)
{
	struct sockaddr_storage hs, cs;
	socklen_t hl = sizeof(hs), cl = sizeof(cs), rl = sizeof(int);
	struct fd_state st = {.kind = FD_LISTENER};
	int reuse = 0;

	if (!listening(p->fd, p->ino) || !listening(p->cfd, p->cino) ||
	    real_getsockname(p->fd, (struct sockaddr *)&hs, &hl) < 0 || hs.ss_family != AF_INET ||
	    real_getsockname(p->cfd, (struct sockaddr *)&cs, &cl) < 0 || port_of(&hs) == 0 ||
	    port_of(&hs) != port_of(&cs))
		return;
	(void)fcntl(p->cfd, F_SETFD, FD_CLOEXEC);
	(void)getsockopt(p->cfd, SOL_SOCKET, SO_REUSEADDR, &reuse, &rl);
	st.v6 = cs.ss_family == AF_INET6;
	st.ino = fd_inode(p->fd);
	st.u.listener.local = (struct slim_ep){
	    .ip = ntohl(((struct sockaddr_in *)&hs)->sin_addr.s_addr), .port = port_of(&hs)};
	st.u.listener.reuse = reuse != 0;
	st.u.listener.resv = (struct slim_resv){.fd = p->cfd, .ino = p->cino};
	merge_attach(p->fd, &st, false);
}

void listener_env_adopt(void)
{
	struct listener_pair p[LISTENER_ENV_MAX / 16];
	const char *v = getenv(LISTENERS_VAR);
	size_t n;

	if (!v)
		return;
	n = listener_env_parse(v, p, sizeof(p) / sizeof(p[0]));
	for (size_t i = 0; i < n; i++)
		adopt(&p[i]);
	unsetenv(LISTENERS_VAR);
}
