/* When and how much the pool asks the router for: a pool request is sent
 * when the pool runs low, and its reply (one packet with the sockets) is
 * collected by whoever uses the channel next. Requests start small (a
 * process that makes one connection costs the router two sockets, not a
 * full batch) and double with each reply up to POOL_BATCH. */
#ifndef LIBSLIM_POOL_REFILL_H
#define LIBSLIM_POOL_REFILL_H

#include <stdbool.h>

#include "messages.h"

/* Keeps the pool filled: collects a pool reply that has arrived and asks
 * for more when the pool runs low. Without block it never waits (and does
 * nothing if another thread holds the channel); with block it waits for
 * the reply (the pool is empty and a socket is needed now) and reconnects
 * to the router if needed. Preserves errno. */
void pool_refill(bool block);

/* Collects the reply to the pool request on its way on connection fd, if
 * there is one, into the pool (waiting for it if block). MSG_OK (collected,
 * none pending, or not there yet), MSG_TRANSPORT (errno: the connection is
 * unusable) or MSG_PROTOCOL (why). A refusal leaves the pool as it is: the
 * next connect then asks the router itself, which reports it properly.
 * Under the channel lock. */
enum msg_result pool_refill_collect(int fd, bool block, struct msg_why *why);

/* In a forked child: the next request starts small again. */
void pool_refill_fork_child(void);

#endif
