/* A few rtnetlink questions the router asks about interfaces: which one
 * holds an address, what a link is (type, MAC, peer), in its own network
 * namespace or in a container's (by netnsid, IFA_/IFLA_TARGET_NETNSID: no
 * setns, no thread). One request at a time on one socket, answered in
 * full before the call returns. */
#ifndef SLIM_ROUTER_RTNL_H
#define SLIM_ROUTER_RTNL_H

#include <stdint.h>

#define RTNL_SELF (-1) /* the caller's own network namespace */

struct rtnl_link {
	int ifindex;
	char name[16];	     /* IFLA_IFNAME */
	unsigned short type; /* ARPHRD_* */
	uint8_t mac[6];	     /* zero if the link has no 6-byte address */
	char kind[16];	     /* IFLA_INFO_KIND ("veth", ...), "" if none */
	int peer_ifindex;    /* IFLA_LINK, 0 if none */
	int peer_nsid;	     /* IFLA_LINK_NETNSID as the caller sees it, RTNL_SELF if none */
};

/* An rtnetlink socket with strict checking on (required for the target
 * netnsid filters). Returns the fd, or -1 with errno. */
int rtnl_open(void);

/* The netnsid the caller's netns has for the netns behind ns_fd, one
 * allocated if it had none (as `ip link` does for a veth's peer). Returns
 * 0 with *nsid, or a positive errno. */
int rtnl_nsid(int nl, int ns_fd, int *nsid);

/* The interface of netns nsid (RTNL_SELF: the caller's) that holds the
 * IPv4 address ip (network order). Returns 0 with *ifindex, ENOENT if none
 * does, or another positive errno. */
int rtnl_addr_ifindex(int nl, int nsid, uint32_t ip, int *ifindex);

/* What link ifindex of netns nsid is. Returns 0, ENODEV if there is no
 * such link, or another positive errno. */
int rtnl_link_get(int nl, int nsid, int ifindex, struct rtnl_link *out);

#endif
