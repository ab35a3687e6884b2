/* accept and accept4 on a slim listener: its host socket alone, or merged
 * with its container side (merge.h). */
#ifndef LIBSLIM_MERGE_ACCEPT_H
#define LIBSLIM_MERGE_ACCEPT_H

#include <sys/socket.h>

#include "fdtable.h"

/* accept4 on the host socket of listener fd (state l), as the kernel does
 * it (blocking as the app's fd is): the socket accepted is recorded
 * (FD_ACCEPTED: a v6 listener's accepted sockets show v4-mapped names),
 * and a v6 listener's peer name is written v4-mapped. Returns the new fd,
 * or -1 with the kernel's errno. */
int slim_host_accept(int fd, const struct fd_state *l, struct sockaddr *addr, socklen_t *len,
		     int flags);

/* accept4 on listener fd (state l) that has a container side: a connection
 * from either queue, flags applied to whichever socket is accepted. A
 * non-blocking listener (O_NONBLOCK on the app's fd) looks at both queues
 * (one ppoll) and accepts from a ready one, the one tried first
 * alternating so that neither starves, and fails with EAGAIN only when
 * both are empty. A blocking one waits on both (the listener's SO_RCVTIMEO
 * as l records it in force, listener_timeo.h: EAGAIN when it passes; EINTR
 * as accept would give it, below) and takes a ready one; a container
 * connection taken by a racing acceptor sends it back to waiting. Of the
 * threads of this process at most one at a time enters the host socket's
 * blocking accept, so that the others keep waiting on both queues; a
 * thread that lost a slim connection to another process waits there for
 * the next one. A socket accepted on the container side is the container's
 * own (plain, its names the native ones); its errors (ECONNABORTED,
 * EMFILE...) are the kernel's. A signal interrupts the wait with EINTR
 * when SO_RCVTIMEO is set or some handler of the process lacks SA_RESTART
 * (accept itself is restarted after SA_RESTART handlers); otherwise the
 * wait goes on. Returns the new fd, or -1 with errno. */
int merge_accept(int fd, const struct fd_state *l, struct sockaddr *addr, socklen_t *len,
		 int flags);

#endif
