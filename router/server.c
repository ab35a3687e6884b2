/* libev server: one ev_io per client, one request -> one reply. Whatever a
 * client sends, the router answers or drops that client, and keeps serving
 * the others. */
#define _GNU_SOURCE /* accept4 */
#include "server.h"
#include "client_recv.h"
#include "handlers.h"
#include "log.h"
#include "peer.h"
#include "daemon.h"
#include "wire.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Beyond this, new connections are closed at once: each client holds one of
 * the router's fds for as long as its process lives, and a bound keeps a
 * crowd of processes from taking every fd the router has (main() raises
 * the soft RLIMIT_NOFILE to the hard one, which may be far larger, or
 * smaller: then accept's EMFILE refuses clients first, see refuse_one). */
#define MAX_CLIENTS 4096
#define STR_(x) #x
#define STR(x) STR_(x)
/* Bad requests logged per connection; the rest are only answered. */
#define LOG_BAD_MAX 3
/* Linux >= 6.16: 0 makes the kernel refuse SCM_RIGHTS sent to the socket
 * (the sender's sendmsg fails with EPERM). Accepted sockets inherit it. */
#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83
#endif

struct client {
	ev_io w;
	struct server *srv;
	struct peer_id id;
	unsigned bad; /* malformed or invalid requests so far */
	struct client *prev, *next;
};

struct server {
	struct ev_loop *loop;
	ev_io accept_w;
	int fd;
	int spare_fd;	/* closed to make room to refuse a client at EMFILE */
	dev_t sock_dev; /* identity of our socket file, so that we only ever */
	ino_t sock_ino; /* unlink our own */
	struct sockaddr_un addr;
	struct router *r;
	struct client *clients;
	size_t nclients;
	bool refusing; /* "refusing clients" logged; cleared once one is served again */
	struct reply_ctx *rc;
	uint8_t buf[SLIM_WIRE_MAX];
};

/* mkdir -p for the directory part of path. Returns 0 or -1 with errno. */
static int mkdir_parents(const char *path)
{
	char tmp[sizeof(((struct sockaddr_un *)0)->sun_path)];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

/* Is somebody serving path? 1 yes, 0 no (stale or absent), -1 with errno if
 * the path holds something that is not a seqpacket socket. */
static int someone_answers(const struct sockaddr_un *a)
{
	struct stat st;
	int fd, rc;

	if (lstat(a->sun_path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	rc = connect(fd, (const struct sockaddr *)a, sizeof(*a));
	int e = errno;
	close(fd);
	if (rc == 0)
		return 1;
	if (e == ECONNREFUSED)
		return 0;
	errno = e;
	return -1;
}

struct server *server_open(const char *path, char *err, size_t errlen)
{
	struct server *s = calloc(1, sizeof(*s));
	mode_t old;
	int rc;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->fd = -1;
	s->spare_fd = -1;
	s->addr.sun_family = AF_UNIX;
	if (strlen(path) == 0 || strlen(path) >= sizeof(s->addr.sun_path)) {
		snprintf(err, errlen, "socket path '%s' is empty or longer than %zu bytes", path,
			 sizeof(s->addr.sun_path) - 1);
		goto fail;
	}
	strcpy(s->addr.sun_path, path);
	s->rc = malloc(sizeof(*s->rc));
	if (!s->rc) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (mkdir_parents(path) != 0) {
		snprintf(err, errlen, "cannot create the directory of %s: %s", path,
			 strerror(errno));
		goto fail;
	}
	rc = someone_answers(&s->addr);
	if (rc == 1) {
		snprintf(err, errlen,
			 "another router is serving %s (stop it, or pick another --socket)", path);
		goto fail;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s exists and is not a router socket: %s (remove it)", path,
			 strerror(errno));
		goto fail;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove stale socket %s: %s", path, strerror(errno));
		goto fail;
	}
	s->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->fd < 0) {
		snprintf(err, errlen, "cannot create a unix socket: %s", strerror(errno));
		goto fail;
	}
	/* Apps in containers run as any user: everyone may connect; who they
	 * are is checked per connection. */
	old = umask(0);
	rc = bind(s->fd, (struct sockaddr *)&s->addr, sizeof(s->addr));
	umask(old);
	if (rc != 0) {
		snprintf(err, errlen, "cannot bind %s: %s", path, strerror(errno));
		goto fail;
	}
	/* Requests never carry fds. Receiving one is not harmless: closing it
	 * can block the event loop (a TCP socket with SO_LINGER and unsent
	 * data, a FUSE file). Where the kernel can refuse them outright, do so;
	 * elsewhere slim_wire_drop_fd disarms lingering before the close. */
	static const int zero = 0;
	if (setsockopt(s->fd, SOL_SOCKET, SO_PASSRIGHTS, &zero, sizeof(zero)) != 0 &&
	    errno != ENOPROTOOPT && errno != EINVAL)
		rlog("cannot refuse passed descriptors on %s: %s (they are closed instead)", path,
		     strerror(errno));
	if (chmod(path, 0666) != 0 || listen(s->fd, SOMAXCONN) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		unlink(path);
		goto fail;
	}
	struct stat st;
	if (lstat(path, &st) == 0) {
		s->sock_dev = st.st_dev;
		s->sock_ino = st.st_ino;
	}
	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return s;
fail:
	if (s->fd >= 0)
		close(s->fd);
	free(s->rc);
	free(s);
	return NULL;
}

static void client_close(struct client *c)
{
	struct server *s = c->srv;

	ev_io_stop(s->loop, &c->w);
	close(c->w.fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nclients--;
	s->r->clients = s->nclients;
	free(c);
}

/* Logs why clients are being refused, once per episode: a local process
 * looping on connect() must not be able to flood the log. */
static void log_refusing(struct server *s, const char *why)
{
	if (s->refusing)
		return;
	s->refusing = true;
	rlog("%s: refusing new clients until some disconnect", why);
}

/* Sends rc to c and releases rc's fds. Never blocks: client sockets are
 * non-blocking (accept4 SOCK_NONBLOCK), so a client that does not read its
 * replies fills its buffer and gets EAGAIN here. Returns 0, or -1 when the
 * client has to go (gone, or not reading). */
static int send_reply(struct client *c, struct reply_ctx *rc)
{
	/* Replies to libslim must fit its SLIM_WIRE_MAX buffer; only status
	 * (for slimctl) may use up to SLIM_WIRE_MAX_REPLY. */
	size_t cap =
	    rc->rep.body_case == SLIM__REPLY__BODY_STATUS ? SLIM_WIRE_MAX_REPLY : SLIM_WIRE_MAX;
	if (slim__reply__get_packed_size(&rc->rep) > cap)
		reply_error(rc, EMSGSIZE, "reply does not fit in one %zu-byte packet", cap);
	int rcode = slim_wire_send_reply(c->w.fd, &rc->rep, rc->fds, rc->nfds);
	if (rcode != 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		rlog("pid %d: does not read its replies (socket buffer full): client dropped",
		     (int)c->id.pid);
	else if (rcode != 0 && errno != EPIPE && errno != ECONNRESET)
		rlog("pid %d: cannot send reply: %s (client dropped)", (int)c->id.pid,
		     strerror(errno));
	reply_done(rc);
	return rcode;
}

static void on_client(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *c = (struct client *)w;
	struct server *s = c->srv;
	struct reply_ctx *rc = s->rc;
	enum client_packet got;
	size_t n;

	(void)loop;
	(void)revents;
	got = client_recv(w->fd, s->buf, sizeof(s->buf), &n);
	if (got == CLIENT_IDLE)
		return;
	if (got == CLIENT_GONE) {
		client_close(c);
		return;
	}
	reply_init(rc);
	bool log_bad = c->bad < LOG_BAD_MAX;
	if (got != CLIENT_REQUEST)
		s->r->bad_requests++;
	if (got == CLIENT_OVERSIZED) {
		reply_error(rc, EMSGSIZE, "request larger than %d bytes or with too many fds",
			    SLIM_WIRE_MAX);
		if (log_bad)
			rlog("pid %d: oversized request", (int)c->id.pid);
		c->bad++;
	} else if (got == CLIENT_WITH_FDS) {
		reply_error(rc, EINVAL, "requests carry no file descriptors");
		if (log_bad)
			rlog("pid %d: request with file descriptors (closed)", (int)c->id.pid);
		c->bad++;
	} else {
		c->bad += (unsigned)handle_packet(s->r, &c->id, s->buf, n, rc, log_bad);
	}
	if (log_bad && c->bad == LOG_BAD_MAX)
		rlog("pid %d: further bad requests on this connection are not logged",
		     (int)c->id.pid);
	if (send_reply(c, rc) != 0)
		client_close(c);
}

/* At EMFILE the pending connection would wake us forever: give up the spare
 * fd, accept and close the newcomer, and take the spare back. */
static void refuse_one(struct server *s)
{
	if (s->spare_fd >= 0) {
		close(s->spare_fd);
		s->spare_fd = -1;
	}
	int fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		close(fd);
	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct server *s = (struct server *)((char *)w - offsetof(struct server, accept_w));

	(void)revents;
	for (int i = 0; i < 64; i++) {
		int fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				s->r->clients_refused++;
				log_refusing(s, "out of file descriptors");
				refuse_one(s);
			}
			return; /* EAGAIN, ECONNABORTED, ...: wait for the next wakeup */
		}
		if (s->nclients >= MAX_CLIENTS) {
			s->r->clients_refused++;
			log_refusing(s, "too many clients (" STR(MAX_CLIENTS) ")");
			close(fd);
			continue;
		}
		struct client *c = calloc(1, sizeof(*c));
		if (!c || peer_identify(fd, &c->id) != 0) {
			free(c);
			close(fd);
			continue;
		}
		s->refusing = false;
		c->srv = s;
		c->next = s->clients;
		if (c->next)
			c->next->prev = c;
		s->clients = c;
		s->nclients++;
		s->r->clients = s->nclients;
		ev_io_init(&c->w, on_client, fd, EV_READ);
		ev_io_start(loop, &c->w);
	}
}

void server_start(struct server *s, struct ev_loop *loop, struct router *r)
{
	s->loop = loop;
	s->r = r;
	ev_io_init(&s->accept_w, on_accept, s->fd, EV_READ);
	ev_io_start(loop, &s->accept_w);
}

void server_close(struct server *s)
{
	if (!s)
		return;
	while (s->clients)
		client_close(s->clients);
	if (s->loop)
		ev_io_stop(s->loop, &s->accept_w);
	if (s->fd >= 0) {
		struct stat st;
		close(s->fd);
		if (lstat(s->addr.sun_path, &st) == 0 && st.st_dev == s->sock_dev &&
		    st.st_ino == s->sock_ino)
			unlink(s->addr.sun_path);
	}
	if (s->spare_fd >= 0)
		close(s->spare_fd);
	free(s->rc);
	free(s);
}
