// SPDX-License-Identifier: Apache-2.0
// Tern's native addon: the few socket syscalls Node cannot make (netlink, TCP_MD5SIG, IP_MINTTL,
// SO_BINDTODEVICE set before bind/connect) and a uv_poll_t watcher on Node's own event loop.
// C and node_api.h only. It does NOT encode or decode any protocol: rtnetlink and BGP live in TypeScript.
//
// Error contract: syscall failures come back as a negative errno (never thrown); only bad arguments
// throw, synchronously. Poll callbacks get (status, events) with status < 0 on error and are called
// through napi_make_callback; nothing is ever thrown from a libuv callback. A JS callback that throws
// is reported as an uncaught exception (napi_fatal_exception), like any event-emitter listener.
#define _GNU_SOURCE
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <uv.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/filter.h>
#include <netinet/tcp.h> // not <linux/tcp.h>: uv.h already pulls in glibc's copy and the two clash

// glibc's struct tcp_md5sig names the ifindex field __tcpm_pad (Linux >= 5.6 uses it as tcpm_ifindex).
#ifndef TCP_MD5SIG_FLAG_IFINDEX
#define TCP_MD5SIG_FLAG_IFINDEX 0x2
#endif

// ---- argument helpers: they throw (synchronously) and return false on a bad argument ----

#define CALL(env, x) do { if ((x) != napi_ok) return NULL; } while (0)

static bool args(napi_env env, napi_callback_info info, size_t want, size_t need, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return false;
  if (argc < need) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "too few arguments");
    return false;
  }
  for (size_t i = argc; i < want; i++) napi_get_undefined(env, &argv[i]);
  return true;
}
#define ARGS(want, need) \
  napi_value argv[want]; \
  if (!args(env, info, want, need, argv)) return NULL

static bool int_arg(napi_env env, napi_value v, int32_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a number");
    return false;
  }
  return napi_get_value_int32(env, v, out) == napi_ok;
}

static bool buf_arg(napi_env env, napi_value v, void **data, size_t *len) {
  bool is = false;
  if (napi_is_buffer(env, v, &is) != napi_ok || !is) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a Buffer");
    return false;
  }
  return napi_get_buffer_info(env, v, data, len) == napi_ok;
}

static bool is_nullish(napi_env env, napi_value v) {
  napi_valuetype t = napi_undefined;
  napi_typeof(env, v, &t);
  return t == napi_undefined || t == napi_null;
}

static napi_value num(napi_env env, int64_t x) {
  napi_value r = NULL;
  napi_create_int64(env, x, &r);
  return r;
}

// 0 / value on success, -errno on failure: the JS side decides what is exceptional.
static napi_value rc(napi_env env, long r) { return num(env, r < 0 ? -errno : r); }

// ---- plain syscalls ----

static napi_value js_socket(napi_env env, napi_callback_info info) {
  ARGS(3, 3);
  int32_t domain, type, proto;
  if (!int_arg(env, argv[0], &domain) || !int_arg(env, argv[1], &type) || !int_arg(env, argv[2], &proto)) return NULL;
  // Every fd is non-blocking (the event loop must never stall) and close-on-exec (we spawn `ip`).
  return rc(env, socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto));
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  ARGS(1, 1);
  int32_t fd;
  if (!int_arg(env, argv[0], &fd)) return NULL;
  return rc(env, close(fd)); // no EINTR retry: on Linux the fd is gone even when close reports EINTR
}

static bool fd_and_sockaddr(napi_env env, napi_callback_info info, int32_t *fd, void **sa, size_t *len) {
  napi_value argv[2];
  return args(env, info, 2, 2, argv) && int_arg(env, argv[0], fd) && buf_arg(env, argv[1], sa, len);
}

static napi_value js_bind(napi_env env, napi_callback_info info) {
  int32_t fd; void *sa; size_t len;
  if (!fd_and_sockaddr(env, info, &fd, &sa, &len)) return NULL;
  return rc(env, bind(fd, (const struct sockaddr *)sa, (socklen_t)len));
}

// Non-blocking: a TCP connect normally answers -EINPROGRESS; poll for writable, then read SO_ERROR.
static napi_value js_connect(napi_env env, napi_callback_info info) {
  int32_t fd; void *sa; size_t len;
  if (!fd_and_sockaddr(env, info, &fd, &sa, &len)) return NULL;
  return rc(env, connect(fd, (const struct sockaddr *)sa, (socklen_t)len)); // non-blocking: never EINTR
}

static napi_value js_listen(napi_env env, napi_callback_info info) {
  ARGS(2, 2);
  int32_t fd, backlog;
  if (!int_arg(env, argv[0], &fd) || !int_arg(env, argv[1], &backlog)) return NULL;
  return rc(env, listen(fd, backlog));
}

static napi_value js_setsockopt_int(napi_env env, napi_callback_info info) {
  ARGS(4, 4);
  int32_t fd, level, name, value;
  if (!int_arg(env, argv[0], &fd) || !int_arg(env, argv[1], &level) || !int_arg(env, argv[2], &name) ||
      !int_arg(env, argv[3], &value)) return NULL;
  int v = value;
  return rc(env, setsockopt(fd, level, name, &v, sizeof v));
}

static napi_value js_setsockopt_buf(napi_env env, napi_callback_info info) {
  ARGS(4, 4);
  int32_t fd, level, name; void *p; size_t len;
  if (!int_arg(env, argv[0], &fd) || !int_arg(env, argv[1], &level) || !int_arg(env, argv[2], &name) ||
      !buf_arg(env, argv[3], &p, &len)) return NULL;
  return rc(env, setsockopt(fd, level, name, p, (socklen_t)len));
}

// SO_ATTACH_FILTER: struct sock_fprog holds a pointer, so JS passes the instructions (struct
// sock_filter[], 8 bytes each, host order) and the pointer is made here.
static napi_value js_attach_filter(napi_env env, napi_callback_info info) {
  ARGS(2, 2);
  int32_t fd; void *p; size_t len;
  if (!int_arg(env, argv[0], &fd) || !buf_arg(env, argv[1], &p, &len)) return NULL;
  if (len == 0 || len % sizeof(struct sock_filter) != 0 || len / sizeof(struct sock_filter) > BPF_MAXINSNS) {
    napi_throw_range_error(env, NULL, "attachFilter: program must be 1..4096 sock_filter instructions (8 bytes each)");
    return NULL;
  }
  struct sock_fprog prog = { .len = (unsigned short)(len / sizeof(struct sock_filter)), .filter = p };
  return rc(env, setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog));
}

// Values read this way (TTLs, buffer sizes, SO_ERROR, flags) are never negative, so -errno is unambiguous.
static napi_value js_getsockopt_int(napi_env env, napi_callback_info info) {
  ARGS(3, 3);
  int32_t fd, level, name;
  if (!int_arg(env, argv[0], &fd) || !int_arg(env, argv[1], &level) || !int_arg(env, argv[2], &name)) return NULL;
  int v = 0; socklen_t l = sizeof v;
  if (getsockopt(fd, level, name, &v, &l) < 0) return num(env, -errno);
  return num(env, v);
}

static napi_value js_getsockname(napi_env env, napi_callback_info info) {
  ARGS(1, 1);
  int32_t fd;
  if (!int_arg(env, argv[0], &fd)) return NULL;
  struct sockaddr_storage ss; socklen_t l = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &l) < 0) return num(env, -errno);
  napi_value out;
  CALL(env, napi_create_buffer_copy(env, l, &ss, NULL, &out));
  return out;
}

static napi_value js_sendto(napi_env env, napi_callback_info info) {
  ARGS(3, 2);
  int32_t fd; void *p, *sa = NULL; size_t len, salen = 0;
  if (!int_arg(env, argv[0], &fd) || !buf_arg(env, argv[1], &p, &len)) return NULL;
  if (!is_nullish(env, argv[2]) && !buf_arg(env, argv[2], &sa, &salen)) return NULL;
  ssize_t r;
  do r = sendto(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL, sa, (socklen_t)salen); while (r < 0 && errno == EINTR);
  return rc(env, r);
}

// sendtoAsync(fd, datagrams, sockaddr, callback(sent, result)): sendto of each Buffer of the array
// `datagrams`, in order, on a libuv threadpool thread, stopping at the first failure. On the main
// thread the callback gets how many were sent and 0, or the failed one's -errno. For netlink this
// is where the kernel does the work of the requests (a route insertion runs inside the sender's
// sendmsg), so the event loop goes on meanwhile. The array and sockaddr are held until the
// callback. Sends run one at a time, in the order of the sendtoAsync calls (see send_turn), so a
// caller may queue the next send before the last one is done: the kernel gets it without waiting
// for the event loop. The caller does not change an array meanwhile, and does not close the fd
// before the callbacks.
typedef struct { void *data; size_t len; } datagram_t;

// libuv starts queued works on any of its threads, in any order: each send takes a ticket when it
// is queued (on the main thread) and waits for its turn. A waiting send holds a threadpool thread,
// so callers keep only a few queued. A queued work is never cancelled here (a cancelled one would
// hold up every later send).
static pthread_mutex_t send_turn_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t send_turn_cond = PTHREAD_COND_INITIALIZER;
static uint64_t send_tickets_issued; // main thread only
static uint64_t send_now_serving;    // under send_turn_mutex

typedef struct {
  napi_async_work work;
  napi_ref datagrams_ref, addr_ref, callback;
  int fd;
  datagram_t *datagrams;
  uint32_t count, sent;
  void *addr;
  size_t addr_len;
  int result;
  uint64_t ticket;
} async_send_t;

static void send_datagrams(async_send_t *s) {
  for (s->sent = 0; s->sent < s->count; s->sent++) {
    datagram_t *d = &s->datagrams[s->sent];
    ssize_t r;
    do r = sendto(s->fd, d->data, d->len, MSG_DONTWAIT | MSG_NOSIGNAL, s->addr, (socklen_t)s->addr_len); while (r < 0 && errno == EINTR);
    if (r < 0) { s->result = -errno; return; }
  }
  s->result = 0;
}

static void async_send_execute(napi_env env, void *p) {
  (void)env;
  async_send_t *s = p;
  pthread_mutex_lock(&send_turn_mutex);
  while (send_now_serving != s->ticket) pthread_cond_wait(&send_turn_cond, &send_turn_mutex);
  pthread_mutex_unlock(&send_turn_mutex);
  send_datagrams(s);
  pthread_mutex_lock(&send_turn_mutex);
  send_now_serving++;
  pthread_cond_broadcast(&send_turn_cond);
  pthread_mutex_unlock(&send_turn_mutex);
}

static void async_send_free(napi_env env, async_send_t *s) {
  if (s->work != NULL) napi_delete_async_work(env, s->work);
  if (s->callback != NULL) napi_delete_reference(env, s->callback);
  if (s->addr_ref != NULL) napi_delete_reference(env, s->addr_ref);
  if (s->datagrams_ref != NULL) napi_delete_reference(env, s->datagrams_ref);
  free(s->datagrams);
  free(s);
}

static void async_send_complete(napi_env env, napi_status status, void *p) {
  async_send_t *s = p;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) == napi_ok) {
    napi_value cb, global, argv[2], result;
    if (napi_get_reference_value(env, s->callback, &cb) == napi_ok && cb != NULL && napi_get_global(env, &global) == napi_ok) {
      argv[0] = num(env, status == napi_ok ? s->sent : 0);
      argv[1] = num(env, status == napi_ok ? s->result : -ECANCELED);
      if (napi_call_function(env, global, cb, 2, argv, &result) == napi_pending_exception) {
        napi_value err;
        if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
      }
    }
    napi_close_handle_scope(env, scope);
  }
  async_send_free(env, s);
}

static napi_value js_sendto_async(napi_env env, napi_callback_info info) {
  ARGS(4, 4);
  int32_t fd; void *sa = NULL; size_t salen = 0;
  bool is_array = false;
  uint32_t count = 0;
  napi_valuetype t;
  if (!int_arg(env, argv[0], &fd)) return NULL;
  if (napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[1], &count) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected an array of Buffers");
    return NULL;
  }
  if (!is_nullish(env, argv[2]) && !buf_arg(env, argv[2], &sa, &salen)) return NULL;
  if (napi_typeof(env, argv[3], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a callback function");
    return NULL;
  }
  async_send_t *s = calloc(1, sizeof *s);
  if (s == NULL || (count > 0 && (s->datagrams = calloc(count, sizeof *s->datagrams)) == NULL)) { free(s); return num(env, -ENOMEM); }
  s->fd = fd; s->count = count; s->addr = sa; s->addr_len = salen;
  for (uint32_t i = 0; i < count; i++) {
    napi_value b;
    if (napi_get_element(env, argv[1], i, &b) != napi_ok || !buf_arg(env, b, &s->datagrams[i].data, &s->datagrams[i].len)) {
      async_send_free(env, s);
      return NULL; // buf_arg threw
    }
  }
  napi_value name;
  napi_create_string_utf8(env, "tern_native.sendto", NAPI_AUTO_LENGTH, &name);
  // The next ticket; issued for good only once the work is queued (a send that failed to queue
  // must not leave a turn nobody takes).
  s->ticket = send_tickets_issued;
  if (napi_create_reference(env, argv[1], 1, &s->datagrams_ref) != napi_ok ||
      (sa != NULL && napi_create_reference(env, argv[2], 1, &s->addr_ref) != napi_ok) ||
      napi_create_reference(env, argv[3], 1, &s->callback) != napi_ok ||
      napi_create_async_work(env, NULL, name, async_send_execute, async_send_complete, s, &s->work) != napi_ok ||
      napi_queue_async_work(env, s->work) != napi_ok) {
    async_send_free(env, s); // not queued: nothing will complete it
    return num(env, -ENOMEM);
  }
  send_tickets_issued++;
  return num(env, 0);
}

// One datagram (or up to maxBytes of a stream). A datagram longer than maxBytes has lost its tail:
// that is reported as -EMSGSIZE rather than handing back a silently cut message.
static napi_value js_recv(napi_env env, napi_callback_info info) {
  ARGS(2, 2);
  int32_t fd, max;
  if (!int_arg(env, argv[0], &fd) || !int_arg(env, argv[1], &max)) return NULL;
  if (max <= 0) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "maxBytes must be positive");
    return NULL;
  }
  void *scratch = malloc((size_t)max);
  if (scratch == NULL) return num(env, -ENOMEM);
  struct iovec iov = { .iov_base = scratch, .iov_len = (size_t)max };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
  ssize_t r;
  do r = recvmsg(fd, &msg, MSG_DONTWAIT); while (r < 0 && errno == EINTR);
  napi_value out = NULL;
  if (r < 0) out = num(env, -errno);
  else if (msg.msg_flags & MSG_TRUNC) out = num(env, -EMSGSIZE);
  else if (napi_create_buffer_copy(env, (size_t)r, scratch, NULL, &out) != napi_ok) out = NULL;
  free(scratch);
  return out;
}

// recvFrom(fd, maxBytes) -> { data, from, ttl } | -errno: one datagram with its source sockaddr and
// the TTL / hop limit it arrived with (-1 unless IP_RECVTTL / IPV6_RECVHOPLIMIT is on). Node's dgram
// cannot report the TTL, and IP_MINTTL filters TCP only, so the RFC 5881 §5 / RFC 5082 check of
// single-hop BFD needs this. A datagram longer than maxBytes is -EMSGSIZE, as in recv().
static napi_value js_recv_from(napi_env env, napi_callback_info info) {
  ARGS(2, 2);
  int32_t fd, max;
  if (!int_arg(env, argv[0], &fd) || !int_arg(env, argv[1], &max)) return NULL;
  if (max <= 0) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "maxBytes must be positive");
    return NULL;
  }
  void *scratch = malloc((size_t)max);
  if (scratch == NULL) return num(env, -ENOMEM);
  struct sockaddr_storage from; memset(&from, 0, sizeof from);
  union { char buf[CMSG_SPACE(sizeof(int)) * 4]; struct cmsghdr align; } control;
  struct iovec iov = { .iov_base = scratch, .iov_len = (size_t)max };
  struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = control.buf, .msg_controllen = sizeof control.buf };
  ssize_t r;
  do r = recvmsg(fd, &msg, MSG_DONTWAIT); while (r < 0 && errno == EINTR);
  napi_value out = NULL;
  if (r < 0) out = num(env, -errno);
  else if (msg.msg_flags & MSG_TRUNC) out = num(env, -EMSGSIZE);
  else {
    int ttl = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
      bool v4 = c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL;
      bool v6 = c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT;
      if ((v4 || v6) && c->cmsg_len >= CMSG_LEN(sizeof(int))) memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
    }
    napi_value data, addr;
    if (napi_create_object(env, &out) != napi_ok ||
        napi_create_buffer_copy(env, (size_t)r, scratch, NULL, &data) != napi_ok ||
        napi_create_buffer_copy(env, msg.msg_namelen, &from, NULL, &addr) != napi_ok ||
        napi_set_named_property(env, out, "data", data) != napi_ok ||
        napi_set_named_property(env, out, "from", addr) != napi_ok ||
        napi_set_named_property(env, out, "ttl", num(env, ttl)) != napi_ok) out = NULL;
  }
  free(scratch);
  return out;
}

// ---- TCP MD5 (RFC 2385) ----

// setMd5Key(fd, peerSockaddr, key | null, prefixLen = -1, ifindex = 0): key null/empty deletes the key.
// prefixLen >= 0 keys a whole peer range (TCP_MD5SIG_EXT + FLAG_PREFIX); ifindex scopes it to a device.
static napi_value js_set_md5_key(napi_env env, napi_callback_info info) {
  ARGS(5, 3);
  int32_t fd, prefix = -1, ifindex = 0; void *sa, *key = NULL; size_t salen, keylen = 0;
  if (!int_arg(env, argv[0], &fd) || !buf_arg(env, argv[1], &sa, &salen)) return NULL;
  if (!is_nullish(env, argv[2]) && !buf_arg(env, argv[2], &key, &keylen)) return NULL;
  if (!is_nullish(env, argv[3]) && !int_arg(env, argv[3], &prefix)) return NULL;
  if (!is_nullish(env, argv[4]) && !int_arg(env, argv[4], &ifindex)) return NULL;
  if (keylen > TCP_MD5SIG_MAXKEYLEN) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "TCP MD5 key longer than 80 bytes");
    return NULL;
  }
  if (salen > sizeof(struct sockaddr_storage)) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "sockaddr too long");
    return NULL;
  }
  struct tcp_md5sig sig;
  memset(&sig, 0, sizeof sig);
  memcpy(&sig.tcpm_addr, sa, salen);
  sig.tcpm_keylen = (uint16_t)keylen;
  if (keylen) memcpy(sig.tcpm_key, key, keylen);
  int opt = TCP_MD5SIG;
  if (prefix >= 0) { opt = TCP_MD5SIG_EXT; sig.tcpm_flags |= TCP_MD5SIG_FLAG_PREFIX; sig.tcpm_prefixlen = (uint8_t)prefix; }
  if (ifindex > 0) { opt = TCP_MD5SIG_EXT; sig.tcpm_flags |= TCP_MD5SIG_FLAG_IFINDEX; sig.__tcpm_pad = (uint32_t)ifindex; }
  return rc(env, setsockopt(fd, IPPROTO_TCP, opt, &sig, sizeof sig));
}

// ---- uv_poll_t watcher ----

typedef struct {
  uv_poll_t handle;
  napi_env env;
  napi_ref callback;
  napi_async_context async;
  napi_async_cleanup_hook_handle hook;     // env teardown closes us if JS never did
  napi_async_cleanup_hook_handle teardown; // set when the teardown hook is the one closing us
  int fd, events;
  bool stopping, closed, external_gone;
} watcher_t;

// Distinguishes our externals from anyone else's.
static const napi_type_tag WATCHER_TAG = { 0x7465726e706f6c6cULL, 0x1c3a5e7f90b2d4f6ULL };

static void watcher_maybe_free(watcher_t *w) {
  if (w->closed && w->external_gone) free(w);
}

static void on_closed(uv_handle_t *h) {
  watcher_t *w = h->data;
  if (w->teardown) napi_remove_async_cleanup_hook(w->teardown);
  w->closed = true;
  watcher_maybe_free(w);
}

static void on_external_gc(napi_env env, void *data, void *hint) {
  watcher_t *w = data;
  w->external_gone = true;
  watcher_maybe_free(w);
}

static void on_teardown(napi_async_cleanup_hook_handle hh, void *arg) {
  watcher_t *w = arg;
  w->stopping = true;
  w->teardown = hh;
  uv_poll_stop(&w->handle);
  uv_close((uv_handle_t *)&w->handle, on_closed);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  watcher_t *w = h->data;
  if (w->stopping) return;
  // libuv turns POLLERR into UV_EBADF and stops the watcher. On a socket the real cause is the pending
  // SO_ERROR (ENOBUFS on an overrun netlink socket, ECONNREFUSED on a TCP connect): read it (which
  // clears it), report it, and keep watching, since the socket itself is still usable.
  if (status == UV_EBADF) {
    int soerr = 0; socklen_t l = sizeof soerr;
    if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &soerr, &l) == 0 && soerr != 0) {
      status = -soerr;
      uv_poll_start(&w->handle, w->events, on_poll);
    }
  }
  napi_env env = w->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, global, argv[2], result;
  if (napi_get_reference_value(env, w->callback, &cb) == napi_ok && cb != NULL && napi_get_global(env, &global) == napi_ok) {
    argv[0] = num(env, status);
    argv[1] = num(env, status < 0 ? 0 : events);
    // The callback may call pollStop on this very watcher: w stays valid until on_closed runs.
    if (napi_make_callback(env, w->async, global, cb, 2, argv, &result) == napi_pending_exception) {
      napi_value err;
      if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

static watcher_t *watcher_arg(napi_env env, napi_value v) {
  napi_valuetype t;
  bool tagged = false;
  void *p = NULL;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external ||
      napi_check_object_type_tag(env, v, &WATCHER_TAG, &tagged) != napi_ok || !tagged ||
      napi_get_value_external(env, v, &p) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a poll handle");
    return NULL;
  }
  return p;
}

static bool events_arg(napi_env env, napi_value v, int32_t *events) {
  if (!int_arg(env, v, events)) return false;
  if (*events & ~(UV_READABLE | UV_WRITABLE | UV_DISCONNECT | UV_PRIORITIZED)) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "unknown poll event bits");
    return false;
  }
  return true;
}

// poll(fd, events, callback(status, events)) -> handle. The watcher keeps the event loop alive until
// pollStop (or pollRef(handle, false)). Stop it before closing the fd.
static napi_value js_poll(napi_env env, napi_callback_info info) {
  ARGS(3, 3);
  int32_t fd, events;
  napi_valuetype t;
  if (!int_arg(env, argv[0], &fd) || !events_arg(env, argv[1], &events)) return NULL;
  if (napi_typeof(env, argv[2], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a callback function");
    return NULL;
  }
  uv_loop_t *loop;
  CALL(env, napi_get_uv_event_loop(env, &loop));
  watcher_t *w = calloc(1, sizeof *w);
  if (w == NULL) return num(env, -ENOMEM);
  w->env = env; w->fd = fd; w->events = events; w->handle.data = w;
  int r = uv_poll_init(loop, &w->handle, fd);
  if (r < 0) { free(w); return num(env, r); }
  r = uv_poll_start(&w->handle, events, on_poll);
  if (r < 0) { w->stopping = w->external_gone = true; uv_close((uv_handle_t *)&w->handle, on_closed); return num(env, r); }
  napi_value name, ext;
  napi_create_string_utf8(env, "tern_native.poll", NAPI_AUTO_LENGTH, &name);
  napi_create_reference(env, argv[2], 1, &w->callback);
  napi_async_init(env, NULL, name, &w->async);
  napi_add_async_cleanup_hook(env, on_teardown, w, &w->hook);
  if (napi_create_external(env, w, on_external_gc, NULL, &ext) != napi_ok) { w->external_gone = true; return NULL; }
  napi_type_tag_object(env, ext, &WATCHER_TAG);
  return ext;
}

// pollUpdate(handle, events): change the watched events; 0 pauses without closing.
static napi_value js_poll_update(napi_env env, napi_callback_info info) {
  ARGS(2, 2);
  int32_t events;
  watcher_t *w = watcher_arg(env, argv[0]);
  if (w == NULL || !events_arg(env, argv[1], &events)) return NULL;
  if (w->stopping) return num(env, -EBADF);
  w->events = events;
  return num(env, events ? uv_poll_start(&w->handle, events, on_poll) : uv_poll_stop(&w->handle));
}

// pollRef(handle, keepsLoopAlive)
static napi_value js_poll_ref(napi_env env, napi_callback_info info) {
  ARGS(2, 2);
  bool ref = true;
  watcher_t *w = watcher_arg(env, argv[0]);
  if (w == NULL) return NULL;
  napi_get_value_bool(env, argv[1], &ref);
  if (!w->stopping) { if (ref) uv_ref((uv_handle_t *)&w->handle); else uv_unref((uv_handle_t *)&w->handle); }
  return NULL;
}

// pollStop(handle): idempotent; safe from inside the watcher's own callback.
static napi_value js_poll_stop(napi_env env, napi_callback_info info) {
  ARGS(1, 1);
  watcher_t *w = watcher_arg(env, argv[0]);
  if (w == NULL) return NULL;
  if (w->stopping) return NULL;
  w->stopping = true;
  uv_poll_stop(&w->handle);
  napi_remove_async_cleanup_hook(w->hook);
  napi_delete_reference(env, w->callback);
  napi_async_destroy(env, w->async);
  uv_close((uv_handle_t *)&w->handle, on_closed);
  return NULL;
}

// ---- module ----

static void put_const(napi_env env, napi_value obj, const char *name, int64_t v) {
  napi_set_named_property(env, obj, name, num(env, v));
}

static napi_value constants(napi_env env) {
  napi_value c;
  if (napi_create_object(env, &c) != napi_ok) return NULL;
#define K(name) put_const(env, c, #name, name)
  K(AF_UNSPEC); K(AF_INET); K(AF_INET6); K(AF_NETLINK);
  K(SOCK_STREAM); K(SOCK_DGRAM); K(SOCK_RAW);
  K(SOL_SOCKET); K(SO_REUSEADDR); K(SO_ERROR); K(SO_RCVBUF); K(SO_RCVBUFFORCE); K(SO_SNDBUF); K(SO_SNDBUFFORCE);
  K(SO_BINDTODEVICE); K(SO_KEEPALIVE);
  K(IPPROTO_IP); K(IPPROTO_IPV6); K(IPPROTO_TCP);
  K(IP_TTL); K(IP_MINTTL); K(IP_TOS); K(IP_FREEBIND);
  K(IPV6_UNICAST_HOPS); K(IPV6_MINHOPCOUNT); K(IPV6_V6ONLY); K(IPV6_TCLASS);
  K(IP_RECVTTL); K(IPV6_RECVHOPLIMIT);
  K(TCP_NODELAY); K(TCP_MD5SIG); K(TCP_MD5SIG_EXT); K(TCP_MD5SIG_MAXKEYLEN);
  K(SOL_NETLINK); K(NETLINK_ROUTE); K(NETLINK_ADD_MEMBERSHIP); K(NETLINK_DROP_MEMBERSHIP);
  K(NETLINK_EXT_ACK); K(NETLINK_GET_STRICT_CHK); K(NETLINK_CAP_ACK); K(NETLINK_NO_ENOBUFS);
  K(RTMGRP_LINK); K(RTMGRP_IPV4_IFADDR); K(RTMGRP_IPV4_ROUTE); K(RTMGRP_IPV6_IFADDR); K(RTMGRP_IPV6_ROUTE);
  K(RTNLGRP_LINK); K(RTNLGRP_IPV4_IFADDR); K(RTNLGRP_IPV4_ROUTE); K(RTNLGRP_IPV6_IFADDR); K(RTNLGRP_IPV6_ROUTE);
  K(EAGAIN); K(EINPROGRESS); K(ECANCELED); K(ENOBUFS); K(EMSGSIZE); K(ECONNREFUSED); K(EBADF); K(EINTR);
#undef K
  put_const(env, c, "POLL_READABLE", UV_READABLE);
  put_const(env, c, "POLL_WRITABLE", UV_WRITABLE);
  put_const(env, c, "POLL_DISCONNECT", UV_DISCONNECT);
  put_const(env, c, "SIZEOF_TCP_MD5SIG", sizeof(struct tcp_md5sig));
  put_const(env, c, "SIZEOF_SOCKADDR_NL", sizeof(struct sockaddr_nl));
  return c;
}

NAPI_MODULE_INIT() {
  static const struct { const char *name; napi_callback fn; } fns[] = {
    { "socket", js_socket }, { "close", js_close }, { "bind", js_bind }, { "connect", js_connect },
    { "listen", js_listen }, { "setsockoptInt", js_setsockopt_int }, { "setsockoptBuf", js_setsockopt_buf }, { "attachFilter", js_attach_filter },
    { "getsockoptInt", js_getsockopt_int }, { "getsockname", js_getsockname }, { "sendto", js_sendto }, { "sendtoAsync", js_sendto_async },
    { "recv", js_recv }, { "recvFrom", js_recv_from }, { "setMd5Key", js_set_md5_key }, { "poll", js_poll }, { "pollUpdate", js_poll_update },
    { "pollRef", js_poll_ref }, { "pollStop", js_poll_stop },
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value fn;
    CALL(env, napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &fn));
    CALL(env, napi_set_named_property(env, exports, fns[i].name, fn));
  }
  napi_value c = constants(env);
  if (c == NULL) return NULL;
  CALL(env, napi_set_named_property(env, exports, "constants", c));
  return exports;
}
