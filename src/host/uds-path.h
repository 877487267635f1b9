/* uds-path.h - claiming an AF_UNIX socket path: live is an error, stale is replaced. */
#ifndef VSE_UDS_PATH_H
#define VSE_UDS_PATH_H

#include <stddef.h>

/*
 * Makes path free for bind(): nothing there is fine; a socket nobody
 * accepts on (left by a killed process) is removed; a live socket or any
 * other kind of file is an error, described in err. Returns 0,
 * -VSE_ERR_PATH_TAKEN, or -VSE_ERR_SYSTEM with errno as lstat(2) or
 * unlink(2) left it.
 */
int uds_path_prepare(const char *path, char *err, size_t errlen);

/*
 * A non-blocking, close-on-exec AF_UNIX listener of type (SOCK_STREAM,
 * SOCK_SEQPACKET) at path, claimed with uds_path_prepare(): the fd, or -1
 * with one line in err (a path over sun_path, a live or foreign file, a
 * failed socket/bind/listen). The one way every vsockemu listener but the
 * muxer's is made (vhost-user's front-end socket, --guest-connect,
 * PATH.guest, --control).
 */
int uds_listen(const char *path, int type, int backlog, char *err,
    size_t errlen);

#endif
