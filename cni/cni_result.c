#include "cni_result.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Result versions whose layout (interfaces, ips, routes, dns) is the one
 * both supported versions share, up to the "version" key of ips entries. */
static const char *const convertible[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0"};

/* The IPv4 address of a CIDR string "A.B.C.D/N" (or a bare "A.B.C.D"): true
 * with *ip in host byte order. */
static bool parse_ipv4_cidr(const char *s, uint32_t *ip)
{
	char buf[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	struct in_addr a;

	if (n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return false;
	*ip = ntohl(a.s_addr);
	return true;
}

static const char *str_key(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* True if entry (an "ips" element) names an interface of prev called
 * ifname that lives in a sandbox. */
static bool on_container_if(json_object *prev, json_object *entry, const char *ifname)
{
	json_object *idx, *ifs, *itf;
	const char *name, *sandbox;
	int i;

	if (!json_object_object_get_ex(entry, "interface", &idx) ||
	    !json_object_is_type(idx, json_type_int) ||
	    !json_object_object_get_ex(prev, "interfaces", &ifs) ||
	    !json_object_is_type(ifs, json_type_array))
		return false;
	i = json_object_get_int(idx);
	if (i < 0 || (size_t)i >= json_object_array_length(ifs))
		return false;
	itf = json_object_array_get_idx(ifs, (size_t)i);
	if (!json_object_is_type(itf, json_type_object))
		return false;
	name = str_key(itf, "name");
	sandbox = str_key(itf, "sandbox");
	return name && strcmp(name, ifname) == 0 && sandbox && *sandbox;
}

int cni_result_ipv4(json_object *prev, const char *ifname, uint32_t *vip, struct cni_error *e)
{
	json_object *ips;
	size_t n_v4 = 0;
	uint32_t only = 0, ip;

	if (json_object_object_get_ex(prev, "ips", &ips) &&
	    json_object_is_type(ips, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(ips); i++) {
			json_object *entry = json_object_array_get_idx(ips, i);
			const char *addr;
			if (!json_object_is_type(entry, json_type_object) ||
			    !(addr = str_key(entry, "address")) || !parse_ipv4_cidr(addr, &ip))
				continue;
			if (on_container_if(prev, entry, ifname)) {
				*vip = ip;
				return 0;
			}
			n_v4++;
			only = ip;
		}
	}
	if (n_v4 == 1) {
		*vip = only;
		return 0;
	}
	if (n_v4 == 0)
		return cni_fail(e, CNI_ERR_CONFIG, NULL,
				"prevResult has no IPv4 address for the container: put an IPAM "
				"plugin (e.g. bridge with host-local) before slim in the chain");
	return cni_fail(e, CNI_ERR_CONFIG, NULL,
			"prevResult has %zu IPv4 addresses and none on the container's interface "
			"%s: have the plugin before slim report the container's interface",
			n_v4, ifname);
}

json_object *cni_result_convert(json_object *prev, const char *version, struct cni_error *e)
{
	const char *from = str_key(prev, "cniVersion");
	json_object *out = NULL, *ips;
	bool known = !from;
	bool v1 = strcmp(version, "1.0.0") == 0;

	for (size_t i = 0; from && i < sizeof(convertible) / sizeof(convertible[0]); i++)
		known |= strcmp(from, convertible[i]) == 0;
	if (!known) {
		cni_fail(e, CNI_ERR_VERSION, NULL,
			 "prevResult is of cniVersion \"%.64s\", which slim cannot convert to %s: "
			 "use plugins of version 0.3.0 or later",
			 from, version);
		return NULL;
	}
	if (json_object_deep_copy(prev, &out, NULL) != 0) {
		cni_fail(e, CNI_ERR_IO, NULL, "out of memory copying prevResult");
		return NULL;
	}
	json_object_object_add(out, "cniVersion", json_object_new_string(version));
	if (json_object_object_get_ex(out, "ips", &ips) &&
	    json_object_is_type(ips, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(ips); i++) {
			json_object *entry = json_object_array_get_idx(ips, i);
			const char *addr;
			if (!json_object_is_type(entry, json_type_object))
				continue;
			if (v1) {
				json_object_object_del(entry, "version");
			} else if ((addr = str_key(entry, "address"))) {
				json_object_object_add(
				    entry, "version",
				    json_object_new_string(strchr(addr, ':') ? "6" : "4"));
			}
		}
	}
	return out;
}
