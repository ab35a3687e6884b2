/* Minimal rtnetlink client: requests are built in a stack buffer, replies
 * read into another and walked with the NLMSG_/RTA_ macros. */
#include "rtnl.h"

#include <errno.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define RTNL_BUF 32768

struct req {
	struct nlmsghdr nh;
	char body[256];
};

int rtnl_open(void)
{
	int one = 1;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one)) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Starts a request of type with a zeroed fixed header of hdrlen bytes. */
static void *req_init(struct req *r, int type, int flags, size_t hdrlen)
{
	static uint32_t seq;

	memset(r, 0, sizeof(*r));
	r->nh.nlmsg_len = NLMSG_LENGTH(hdrlen);
	r->nh.nlmsg_type = (uint16_t)type;
	r->nh.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	r->nh.nlmsg_seq = ++seq;
	return NLMSG_DATA(&r->nh);
}

/* Appends a 4-byte attribute. */
static void req_put_s32(struct req *r, int type, int32_t v)
{
	struct rtattr *a = (struct rtattr *)((char *)&r->nh + NLMSG_ALIGN(r->nh.nlmsg_len));

	a->rta_type = (unsigned short)type;
	a->rta_len = RTA_LENGTH(sizeof(v));
	memcpy(RTA_DATA(a), &v, sizeof(v));
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* Called for each answer message until one returns nonzero: 1 (found, the
 * rest is read and ignored) or a positive errno. */
typedef int (*msg_fn)(const struct nlmsghdr *nh, void *ctx);

/* The error an NLMSG_ERROR or (a dump's) NLMSG_DONE carries: 0 or a
 * positive errno. */
static int msg_error(const struct nlmsghdr *nh)
{
	int32_t e;

	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(e)))
		return nh->nlmsg_type == NLMSG_DONE ? 0 : EPROTO;
	memcpy(&e, NLMSG_DATA(nh), sizeof(e));
	return e < 0 ? -e : 0;
}

/* Sends r and hands the answer messages to fn. A dump ends with
 * NLMSG_DONE; a plain request with its one answer or its NLMSG_ERROR (an
 * acknowledgement when it carries 0). Returns what fn returned (1 counts
 * as 0), or a positive errno from the kernel or the socket. */
static int transact(int nl, struct req *r, msg_fn fn, void *ctx)
{
	static char buf[RTNL_BUF] __attribute__((aligned(4)));
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	struct iovec iov = {.iov_base = r, .iov_len = r->nh.nlmsg_len};
	struct msghdr m = {
	    .msg_name = &kernel, .msg_namelen = sizeof(kernel), .msg_iov = &iov, .msg_iovlen = 1};
	bool dump = r->nh.nlmsg_flags & NLM_F_DUMP;
	int verdict = 0; /* fn's first nonzero answer */

	if (sendmsg(nl, &m, 0) < 0)
		return errno;
	for (;;) {
		struct iovec riov = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct msghdr rm = {.msg_iov = &riov, .msg_iovlen = 1};
		ssize_t n = recvmsg(nl, &rm, 0);
		const struct nlmsghdr *nh;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (rm.msg_flags & MSG_TRUNC)
			return EMSGSIZE;
		for (nh = (const struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n);
		     nh = NLMSG_NEXT(nh, n)) {
			int e;

			if (nh->nlmsg_seq != r->nh.nlmsg_seq)
				continue; /* a late answer to an earlier request */
			if (nh->nlmsg_type == NLMSG_DONE || nh->nlmsg_type == NLMSG_ERROR) {
				e = msg_error(nh);
				if (e)
					return e;
				if (nh->nlmsg_type == NLMSG_DONE || !dump)
					return verdict == 1 ? 0 : verdict;
				continue;
			}
			if (verdict == 0)
				verdict = fn(nh, ctx);
			if (!dump)
				return verdict == 1 ? 0 : verdict;
		}
	}
}

/* ---- netnsid ---- */

static int nsid_msg(const struct nlmsghdr *nh, void *ctx)
{
	const struct rtattr *a;
	int len;

	if (nh->nlmsg_type != RTM_NEWNSID)
		return 0;
	len = (int)nh->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(struct rtgenmsg)));
	for (a = (const struct rtattr *)((const char *)NLMSG_DATA(nh) +
					 NLMSG_ALIGN(sizeof(struct rtgenmsg)));
	     RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == NETNSA_NSID && RTA_PAYLOAD(a) >= sizeof(int32_t))
			memcpy(ctx, RTA_DATA(a), sizeof(int32_t));
	return 1;
}

static int nsid_ask(int nl, int type, int ns_fd, int32_t want, int32_t *got)
{
	struct req r;
	struct rtgenmsg *g =
	    req_init(&r, type, type == RTM_NEWNSID ? NLM_F_ACK : 0, NLMSG_ALIGN(sizeof(*g)));

	g->rtgen_family = AF_UNSPEC;
	req_put_s32(&r, NETNSA_FD, ns_fd);
	if (type == RTM_NEWNSID)
		req_put_s32(&r, NETNSA_NSID, want);
	return transact(nl, &r, nsid_msg, got);
}

int rtnl_nsid(int nl, int ns_fd, int *nsid)
{
	int32_t id = NETNSA_NSID_NOT_ASSIGNED;
	int e = nsid_ask(nl, RTM_GETNSID, ns_fd, 0, &id);

	if (e == 0 && id < 0) {
		/* -1: the kernel picks a free id. EEXIST: someone else just
		 * gave it one. Either way ask again. */
		e = nsid_ask(nl, RTM_NEWNSID, ns_fd, -1, &id);
		if (e != 0 && e != EEXIST)
			return e;
		e = nsid_ask(nl, RTM_GETNSID, ns_fd, 0, &id);
	}
	if (e)
		return e;
	if (id < 0)
		return ENOENT;
	*nsid = id;
	return 0;
}

/* ---- addresses ---- */

struct addr_q {
	uint32_t ip;
	int ifindex;
};

static int addr_msg(const struct nlmsghdr *nh, void *ctx)
{
	struct addr_q *q = ctx;
	const struct ifaddrmsg *ifa = NLMSG_DATA(nh);
	const struct rtattr *a;
	int len;

	if (nh->nlmsg_type != RTM_NEWADDR || ifa->ifa_family != AF_INET)
		return 0;
	len = (int)IFA_PAYLOAD(nh);
	for (a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if ((a->rta_type == IFA_LOCAL || a->rta_type == IFA_ADDRESS) &&
		    RTA_PAYLOAD(a) == 4 && memcmp(RTA_DATA(a), &q->ip, 4) == 0) {
			q->ifindex = (int)ifa->ifa_index;
			return 1;
		}
	}
	return 0;
}

int rtnl_addr_ifindex(int nl, int nsid, uint32_t ip, int *ifindex)
{
	struct addr_q q = {.ip = ip};
	struct req r;
	struct ifaddrmsg *ifa = req_init(&r, RTM_GETADDR, NLM_F_DUMP, sizeof(*ifa));
	int e;

	ifa->ifa_family = AF_INET;
	if (nsid != RTNL_SELF)
		req_put_s32(&r, IFA_TARGET_NETNSID, nsid);
	e = transact(nl, &r, addr_msg, &q);
	if (e)
		return e;
	if (!q.ifindex)
		return ENOENT;
	*ifindex = q.ifindex;
	return 0;
}

/* ---- links ---- */

static void link_info(const struct rtattr *info, struct rtnl_link *l)
{
	const struct rtattr *a;
	int len = (int)RTA_PAYLOAD(info);

	for (a = RTA_DATA(info); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == IFLA_INFO_KIND && RTA_PAYLOAD(a) > 0) {
			size_t n = RTA_PAYLOAD(a);
			if (n >= sizeof(l->kind))
				n = sizeof(l->kind) - 1;
			memcpy(l->kind, RTA_DATA(a), n);
			l->kind[n] = '\0';
		}
}

static int link_msg(const struct nlmsghdr *nh, void *ctx)
{
	struct rtnl_link *l = ctx;
	const struct ifinfomsg *ifi = NLMSG_DATA(nh);
	const struct rtattr *a;
	int len;

	if (nh->nlmsg_type != RTM_NEWLINK || nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return 0;
	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->type = ifi->ifi_type;
	l->peer_nsid = RTNL_SELF;
	len = (int)IFLA_PAYLOAD(nh);
	for (a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case IFLA_IFNAME:
			snprintf(l->name, sizeof(l->name), "%.*s", (int)RTA_PAYLOAD(a),
				 (const char *)RTA_DATA(a));
			break;
		case IFLA_ADDRESS:
			if (RTA_PAYLOAD(a) == sizeof(l->mac))
				memcpy(l->mac, RTA_DATA(a), sizeof(l->mac));
			break;
		case IFLA_LINK:
			if (RTA_PAYLOAD(a) >= sizeof(int32_t))
				memcpy(&l->peer_ifindex, RTA_DATA(a), sizeof(int32_t));
			break;
		case IFLA_LINK_NETNSID:
			if (RTA_PAYLOAD(a) >= sizeof(int32_t))
				memcpy(&l->peer_nsid, RTA_DATA(a), sizeof(int32_t));
			break;
		case IFLA_LINKINFO:
			link_info(a, l);
			break;
		}
	}
	return 1;
}

int rtnl_link_get(int nl, int nsid, int ifindex, struct rtnl_link *out)
{
	struct req r;
	struct ifinfomsg *ifi = req_init(&r, RTM_GETLINK, 0, sizeof(*ifi));
	int e;

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (nsid != RTNL_SELF)
		req_put_s32(&r, IFLA_TARGET_NETNSID, nsid);
	memset(out, 0, sizeof(*out));
	e = transact(nl, &r, link_msg, out);
	if (e)
		return e;
	return out->ifindex == ifindex ? 0 : ENODEV;
}
