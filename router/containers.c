/* A small array: a host runs at most a few hundred containers and every
 * operation is an admin request or a per-request identity check. */
#include "containers.h"
#include "cluster.h"
#include "log.h"
#include "routes.h"
#include "wire.h"

#include <errno.h>
#include <sys/random.h>
#include <stdio.h>
#include <string.h>

void reg_init(struct registry *r, uint32_t subnet, uint8_t prefix_len)
{
	memset(r, 0, sizeof(*r));
	r->subnet = subnet;
	r->prefix_len = prefix_len;
}

static const struct container *reg_by_id(const struct registry *r, uint32_t id)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->c[i].id == id)
			return &r->c[i];
	return NULL;
}

/* A new id: random, not 0, not one a registered container has. Returns 0,
 * or an errno with why filled. */
static int draw_id(const struct registry *r, uint32_t *id, char *why, size_t whylen)
{
	do {
		if (getrandom(id, sizeof(*id), 0) != sizeof(*id))
			return slim_fail(errno ? errno : EIO, why, whylen,
					 "cannot draw a container id: %s", strerror(errno));
	} while (*id == 0 || reg_by_id(r, *id));
	return 0;
}

int reg_add(struct registry *r, const char *name, uint32_t vip, const char *netns, dev_t ns_dev,
	    ino_t ns_ino, uint32_t id, char *why, size_t whylen)
{
	uint32_t mask = slim_prefix_mask(r->prefix_len);
	const struct container *o;

	if (!slim_container_name_ok(name))
		return slim_fail(EINVAL, why, whylen,
				 "bad container name (1..%d characters of [A-Za-z0-9_.-])",
				 SLIM_CONTAINER_NAME_MAX);
	if ((vip & mask) != r->subnet)
		return slim_fail(EINVAL, why, whylen, "%s is outside this host's subnet %s/%u",
				 ip_str(vip), ip_str(r->subnet), r->prefix_len);
	if (r->prefix_len <= 30 && (vip == r->subnet || vip == (r->subnet | ~mask)))
		return slim_fail(EINVAL, why, whylen, "%s is the %s address of %s/%u", ip_str(vip),
				 vip == r->subnet ? "network" : "broadcast", ip_str(r->subnet),
				 r->prefix_len);
	if (strlen(netns) > REG_NETNS_MAX)
		return slim_fail(ENAMETOOLONG, why, whylen, "netns path longer than %d characters",
				 REG_NETNS_MAX);
	if ((o = reg_by_name(r, name)))
		return slim_fail(EEXIST, why, whylen, "container %s already exists (%s)", name,
				 ip_str(o->vip));
	if ((o = reg_by_vip(r, vip)))
		return slim_fail(EEXIST, why, whylen, "%s already belongs to container %s",
				 ip_str(vip), o->name);
	/* Callers are told apart by their netns: two containers in one would
	 * be indistinguishable. */
	if ((o = reg_by_netns(r, ns_dev, ns_ino)))
		return slim_fail(EEXIST, why, whylen, "netns %s is already container %s's", netns,
				 o->name);
	if (id && (o = reg_by_id(r, id)))
		return slim_fail(EEXIST, why, whylen, "id %u is already container %s's", id,
				 o->name);
	if (r->n >= REG_MAX)
		return slim_fail(ENOSPC, why, whylen, "too many containers (at most %d)", REG_MAX);
	if (!id) {
		int e = draw_id(r, &id, why, whylen);
		if (e)
			return e;
	}

	struct container *c = &r->c[r->n++];
	memset(c, 0, sizeof(*c));
	strcpy(c->name, name);
	strcpy(c->netns, netns);
	c->vip = vip;
	c->ns_dev = ns_dev;
	c->ns_ino = ns_ino;
	c->id = id;
	return 0;
}

int reg_del(struct registry *r, const char *name, struct container *out)
{
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->c[i].name, name) != 0)
			continue;
		if (out)
			*out = r->c[i];
		/* Keep registration order: status lists containers as added. */
		memmove(&r->c[i], &r->c[i + 1], (r->n - i - 1) * sizeof(r->c[0]));
		r->n--;
		return 0;
	}
	return ENOENT;
}

const struct container *reg_by_name(const struct registry *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->c[i].name, name) == 0)
			return &r->c[i];
	return NULL;
}

const struct container *reg_by_vip(const struct registry *r, uint32_t vip)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->c[i].vip == vip)
			return &r->c[i];
	return NULL;
}

const struct container *reg_by_netns(const struct registry *r, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->c[i].ns_dev == dev && r->c[i].ns_ino == ino)
			return &r->c[i];
	return NULL;
}
