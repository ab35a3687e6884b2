#include "cni_router.h"
#include "ctl_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char *ip_s(uint32_t ip, char buf[INET_ADDRSTRLEN])
{
	struct in_addr a = {.s_addr = htonl(ip)};

	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* The CNI error for a request that failed on the way (not refused). */
static int transport_error(const struct ctl_error *ce, const char *sock, struct cni_error *e)
{
	switch (ce->kind) {
	case CTL_NO_ROUTER:
		return cni_fail(e, CNI_ERR_TRY_LATER, ce->msg,
				"no slim-router answers at %s: start slim-router on this host "
				"(or set \"socket\" in the network configuration to its socket)",
				sock);
	case CTL_STUCK:
		return cni_fail(e, CNI_ERR_TRY_LATER, ce->msg,
				"slim-router at %s did not answer in time: check its log", sock);
	default:
		return cni_fail(e, SLIM_CNI_ERR_ROUTER, ce->msg,
				"the request to slim-router at %s failed: %s", sock, ce->msg);
	}
}

int cni_router_add(const char *sock, const char *id, uint32_t vip, const char *netns,
		   struct cni_error *e)
{
	struct ctl_error ce;
	char a[INET_ADDRSTRLEN];

	if (ctl_container_add(sock, id, vip, netns, &ce) == 0)
		return 0;
	if (ce.kind != CTL_REFUSED)
		return transport_error(&ce, sock, e);
	if (ce.err == EEXIST)
		return cni_fail(e, SLIM_CNI_ERR_DUPLICATE, ce.msg,
				"slim-router has this already: %s: DEL the registration that holds "
				"it first (or slimctl container del)",
				ce.msg);
	if (ce.err == EINVAL || ce.err == ENOENT || ce.err == ENAMETOOLONG || ce.err == ENOSPC)
		return cni_fail(e, SLIM_CNI_ERR_REFUSED, ce.msg,
				"slim-router refused container address %s: %s: give the container "
				"an address in this host's slim subnet (slimctl status) and a "
				"network namespace",
				ip_s(vip, a), ce.msg);
	return cni_fail(e, SLIM_CNI_ERR_ROUTER, ce.msg,
			"slim-router could not register the container: %s", ce.msg);
}

int cni_router_del(const char *sock, const char *id, struct cni_error *e)
{
	struct ctl_error ce;

	if (ctl_container_del(sock, id, &ce) == 0)
		return 0;
	if (ce.kind == CTL_NO_ROUTER || (ce.kind == CTL_REFUSED && ce.err == ENOENT))
		return 0;
	if (ce.kind != CTL_REFUSED)
		return transport_error(&ce, sock, e);
	return cni_fail(e, SLIM_CNI_ERR_ROUTER, ce.msg,
			"slim-router could not unregister the container: %s", ce.msg);
}

/* True if paths a and b name the same file (the same string, or the same
 * device and inode: a netns can be reached by several paths). */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (strcmp(a, b) == 0)
		return true;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

int cni_router_check(const char *sock, const char *id, uint32_t vip, const char *netns,
		     struct cni_error *e)
{
	struct ctl_error ce;
	Slim__Reply *rep = ctl_container_get(sock, id, &ce);
	const Slim__ContainerStatus *c;
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	int rc = 0;

	if (!rep) {
		if (ce.kind != CTL_REFUSED)
			return transport_error(&ce, sock, e);
		if (ce.err == ENOENT)
			return cni_fail(e, SLIM_CNI_ERR_NOT_REGISTERED, ce.msg,
					"container %.*s is not registered with slim-router at %s: "
					"DEL and ADD it again",
					SLIM_CONTAINER_NAME_MAX, id, sock);
		return cni_fail(e, SLIM_CNI_ERR_ROUTER, ce.msg,
				"slim-router did not report the container: %s", ce.msg);
	}
	c = rep->container;
	if (c->vip != vip)
		rc = cni_fail(e, SLIM_CNI_ERR_MISMATCH, NULL,
			      "container %.*s is registered with %s, not %s: DEL and ADD it again",
			      SLIM_CONTAINER_NAME_MAX, id, ip_s(c->vip, a), ip_s(vip, b));
	else if (!same_file(c->netns_path, netns))
		rc = cni_fail(e, SLIM_CNI_ERR_MISMATCH, NULL,
			      "container %.*s is registered with netns %.256s, not %.256s: DEL and "
			      "ADD it again",
			      SLIM_CONTAINER_NAME_MAX, id, c->netns_path, netns);
	slim__reply__free_unpacked(rep, NULL);
	return rc;
}
