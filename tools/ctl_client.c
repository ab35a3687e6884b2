#include "ctl_client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static void set_error(struct ctl_error *e, enum ctl_fail kind, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void set_error(struct ctl_error *e, enum ctl_fail kind, int err, const char *fmt, ...)
{
	va_list ap;

	e->kind = kind;
	e->err = err;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

/* Connects to path with every step bounded. Returns the socket or -1 with
 * *e filled in. */
static int connect_router(const char *path, struct ctl_error *e)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = CTL_REPLY_TIMEOUT_S};
	int fd;

	if (strlen(path) >= sizeof(a.sun_path)) {
		set_error(e, CTL_LOCAL, ENAMETOOLONG, "socket path %s is too long", path);
		return -1;
	}
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		set_error(e, CTL_LOCAL, errno, "cannot create a unix socket: %s", strerror(errno));
		return -1;
	}
	/* Bound every step: a Unix connect() waits while the router's backlog
	 * is full (SO_SNDTIMEO), and a stuck router never answers. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
		set_error(e, CTL_LOCAL, errno, "cannot set a timeout on the socket: %s",
			  strerror(errno));
		close(fd);
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		if (errno == EAGAIN)
			set_error(e, CTL_STUCK, errno,
				  "%s accepted no connection within %d s (is the router stuck?)",
				  path, CTL_REPLY_TIMEOUT_S);
		else
			set_error(e, CTL_NO_ROUTER, errno,
				  "cannot connect to %s: %s (is slim-router running?)", path,
				  strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

Slim__Reply *ctl_request(const char *path, const Slim__Request *req, struct ctl_error *e)
{
	static uint8_t buf[SLIM_WIRE_MAX_REPLY];
	int fds[SLIM_WIRE_MAX_FDS];
	size_t nfds = 0;
	Slim__Reply *rep = NULL;
	char why[256];
	ssize_t n;
	int fd;

	memset(e, 0, sizeof(*e));
	if ((fd = connect_router(path, e)) < 0)
		return NULL;
	if (slim_wire_send_request(fd, req, NULL, 0) != 0) {
		set_error(e, CTL_LOCAL, errno, "cannot send to %s: %s", path, strerror(errno));
		goto out;
	}
	n = slim_wire_recv(fd, buf, sizeof(buf), fds, &nfds, SLIM_WIRE_MAX_FDS);
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]); /* admin replies carry none; never keep strays */
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		set_error(e, CTL_STUCK, errno,
			  "no reply from %s within %d s (is the router stuck?)", path,
			  CTL_REPLY_TIMEOUT_S);
	else if (n < 0)
		set_error(e, CTL_LOCAL, errno, "cannot read the reply from %s: %s", path,
			  strerror(errno));
	else if (n == 0)
		set_error(e, CTL_BAD_REPLY, 0, "%s closed the connection without a reply", path);
	else if (!(rep = slim__reply__unpack(NULL, (size_t)n, buf)))
		set_error(e, CTL_BAD_REPLY, 0, "malformed reply from %s", path);
	if (!rep)
		goto out;
	if (slim_validate_reply(rep, req->body_case, why, sizeof(why)) != 0) {
		set_error(e, CTL_BAD_REPLY, 0, "bad reply from the router: %s", why);
	} else if (rep->error != 0) {
		const char *m = rep->message && *rep->message ? rep->message : strerror(rep->error);
		set_error(e, CTL_REFUSED, rep->error, "%s", m);
	} else {
		goto out;
	}
	slim__reply__free_unpacked(rep, NULL);
	rep = NULL;
out:
	close(fd);
	return rep;
}

/* Sends a request whose success reply has no body; returns 0 or -1. */
static int bare_request(const char *path, const Slim__Request *req, struct ctl_error *e)
{
	Slim__Reply *rep = ctl_request(path, req, e);

	if (!rep)
		return -1;
	slim__reply__free_unpacked(rep, NULL);
	return 0;
}

int ctl_container_add(const char *path, const char *name, uint32_t vip, const char *netns_path,
		      struct ctl_error *e)
{
	Slim__Request req = SLIM__REQUEST__INIT;
	Slim__ContainerAddRequest add = SLIM__CONTAINER_ADD_REQUEST__INIT;

	add.name = (char *)name;
	add.vip = vip;
	add.netns_path = (char *)netns_path;
	req.body_case = SLIM__REQUEST__BODY_CONTAINER_ADD;
	req.container_add = &add;
	return bare_request(path, &req, e);
}

int ctl_container_del(const char *path, const char *name, struct ctl_error *e)
{
	Slim__Request req = SLIM__REQUEST__INIT;
	Slim__ContainerDelRequest del = SLIM__CONTAINER_DEL_REQUEST__INIT;

	del.name = (char *)name;
	req.body_case = SLIM__REQUEST__BODY_CONTAINER_DEL;
	req.container_del = &del;
	return bare_request(path, &req, e);
}

Slim__Reply *ctl_container_get(const char *path, const char *name, struct ctl_error *e)
{
	Slim__Request req = SLIM__REQUEST__INIT;
	Slim__ContainerGetRequest get = SLIM__CONTAINER_GET_REQUEST__INIT;

	get.name = (char *)name;
	req.body_case = SLIM__REQUEST__BODY_CONTAINER_GET;
	req.container_get = &get;
	return ctl_request(path, &req, e);
}

Slim__Reply *ctl_status(const char *path, struct ctl_error *e)
{
	Slim__Request req = SLIM__REQUEST__INIT;
	Slim__StatusRequest st = SLIM__STATUS_REQUEST__INIT;

	req.body_case = SLIM__REQUEST__BODY_STATUS;
	req.status = &st;
	return ctl_request(path, &req, e);
}

const char *ctl_abs_path(const char *path, char buf[PATH_MAX])
{
	if (path[0] == '/')
		return path;
	return realpath(path, buf);
}
