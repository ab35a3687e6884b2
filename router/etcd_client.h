/* etcd's v3 JSON gateway (grpc-gateway over HTTP): the request bodies the
 * router sends and the replies it reads. Keys and values travel base64;
 * 64-bit numbers travel as decimal strings. Replies are input: every field
 * is checked, and anything unexpected is an error, never a crash. Pure
 * (json-c only), so it is tested without an etcd. */
#ifndef SLIM_ROUTER_ETCD_CLIENT_H
#define SLIM_ROUTER_ETCD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest key or value handled (bytes, decoded). */
#define ETCD_MAX_KEY 512
#define ETCD_MAX_VALUE 1024

struct etcd_kv {
	char key[ETCD_MAX_KEY + 1];
	char value[ETCD_MAX_VALUE + 1]; /* NUL-terminated; values are text */
	int64_t create_revision, mod_revision, lease;
};

/* The request bodies: a new string the caller frees, or NULL (ENOMEM). */
char *etcd_req_grant(int64_t ttl);
char *etcd_req_keepalive(int64_t lease);
char *etcd_req_revoke(int64_t lease);
/* Every key under prefix. */
char *etcd_req_range_prefix(const char *prefix);
/* Puts key=value under lease if the key does not exist (mod_revision 0) or
 * was last written at mod_revision; else reads it (the txn's failure
 * branch). */
char *etcd_req_claim(const char *key, const char *value, int64_t lease, int64_t mod_revision);
/* Deletes key if it still carries lease (a clean leave). */
char *etcd_req_delete_if_lease(const char *key, int64_t lease);
/* Watches every key under prefix from revision start, with previous
 * values on deletes. */
char *etcd_req_watch_prefix(const char *prefix, int64_t start);

/* Reads a lease grant reply: *lease, *ttl. Returns 0, or -1 with why. */
int etcd_parse_grant(const char *body, int64_t *lease, int64_t *ttl, char *why, size_t whylen);

/* Reads a keepalive reply: *ttl is the remaining TTL, 0 when the lease is
 * gone. Returns 0, or -1 with why. */
int etcd_parse_keepalive(const char *body, int64_t *ttl, char *why, size_t whylen);

/* Reads a range reply: a new array of *n kvs (caller frees; keys of more
 * than ETCD_MAX_KEY or values of more than ETCD_MAX_VALUE bytes are
 * skipped and counted in *skipped) and the store's *revision. Returns 0, or
 * -1 with why. */
int etcd_parse_range(const char *body, struct etcd_kv **kvs, size_t *n, size_t *skipped,
		     int64_t *revision, char *why, size_t whylen);

/* Reads a claim (txn) reply: *ok whether the put happened, *revision the
 * store's revision after it; if not, the key's current kv in *cur
 * (cur->mod_revision 0 if the key vanished meanwhile). Returns 0, or -1
 * with why. */
int etcd_parse_claim(const char *body, bool *ok, int64_t *revision, struct etcd_kv *cur, char *why,
		     size_t whylen);

/* One line of a watch stream. */
enum etcd_watch_kind {
	ETCD_WATCH_CREATED,  /* the watch is set up */
	ETCD_WATCH_EVENTS,   /* events (may be none: progress) */
	ETCD_WATCH_CANCELED, /* the watch ended (compaction, error): resync */
};

struct etcd_event {
	bool deleted; /* else a put */
	struct etcd_kv kv;
};

/* Reads one line of a watch stream: *kind, and for EVENTS a new array of
 * *n events (caller frees; oversized ones skipped) and the revision of the
 * reply. Returns 0, or -1 with why (an error object, or nonsense). */
int etcd_parse_watch(const char *line, enum etcd_watch_kind *kind, struct etcd_event **ev,
		     size_t *n, int64_t *revision, char *why, size_t whylen);

/* Base64 (RFC 4648, padded). encode: out needs 4 * ((n + 2) / 3) + 1
 * bytes. decode: returns the decoded length (out has room for outlen
 * bytes; a NUL is added if there is room), or -1 for malformed input or
 * too little room. */
void etcd_b64_encode(const unsigned char *in, size_t n, char *out);
long etcd_b64_decode(const char *in, unsigned char *out, size_t outlen);

#endif
