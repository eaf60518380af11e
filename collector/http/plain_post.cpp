#include "http/plain_post.h"

#include <poll.h>

#include <algorithm>
#include <cstring>

#include "http/response_reader.h"

namespace sluice::http {

namespace {

template <typename T>
void close_and_delete(T* handle) {
  auto* h = reinterpret_cast<uv_handle_t*>(handle);
  if (!uv_is_closing(h)) uv_close(h, [](uv_handle_t* x) { delete reinterpret_cast<T*>(x); });
}

}  // namespace

struct PlainPoster::Request {
  uint64_t id = 0;
  PlainTarget target;
  HttpRequest request;
  ResponseCallback callback;
  std::string head;
  std::string_view body;
  std::unique_ptr<ResponseReader> reader;
  Connection* conn = nullptr;
  struct Timer {
    uv_timer_t handle;
    PlainPoster* owner;
    uint64_t id;
  };
  Timer* timer = nullptr;
  uint64_t started_ms = 0;
  uint64_t connect_started_ms = 0;
  bool active = false;      // holds one of max_concurrent slots
  bool connecting = false;
  bool retried = false;
  std::vector<sockaddr_storage> addresses;
  size_t next_address = 0;
  std::string connect_error;
};

struct PlainPoster::Connection {
  uv_tcp_t tcp;
  uv_connect_t connect_req;
  uv_write_t write_req;
  PlainPoster* owner = nullptr;
  std::string key;  // the target's host_header: host and port
  Request* request = nullptr;
  bool closing = false;
  bool writing = false;  // a request's bytes are still being written
  bool reused = false;   // carried a complete response before
  char buffer[64 << 10];
};

namespace {
struct Resolve {
  uv_getaddrinfo_t req;
  std::weak_ptr<PlainPoster> owner;
  uint64_t id;
};
}  // namespace

PlainPoster::PlainPoster(uv_loop_t* loop, const HttpClient::Options& options)
    : loop_(loop), options_(options) {}

PlainPoster::~PlainPoster() { close(); }

void PlainPoster::send(uint64_t id, PlainTarget target, HttpRequest request, ResponseCallback callback) {
  if (closed_) return;
  auto owned = std::make_unique<Request>();
  Request& r = *owned;
  r.id = id;
  r.target = std::move(target);
  r.request = std::move(request);
  r.callback = std::move(callback);
  if (r.request.gzip_body) {
    r.request.body = gzip_compress(r.request.body_view.empty() ? std::string_view(r.request.body)
                                                               : r.request.body_view);
    r.request.body_view = {};
    r.request.headers.emplace_back("Content-Encoding", "gzip");
  }
  r.body = r.request.body_view.empty() ? std::string_view(r.request.body) : r.request.body_view;
  r.head = plain_request_head(r.target, r.request, r.body.size(), options_.user_agent);
  uv_update_time(loop_);  // the loop's time may lag after a long batch: timeouts count from now
  r.started_ms = uv_now(loop_);
  requests_.emplace(id, std::move(owned));
  arm_timer(r);
  dispatch(r);
}

void PlainPoster::dispatch(Request& r) {
  if (busy_connections_ >= std::max<size_t>(options_.max_concurrent, 1)) {
    queued_.push_back(r.id);
    return;
  }
  r.active = true;
  ++busy_connections_;
  for (size_t i = idle_.size(); i-- > 0;) {
    Connection* c = idle_[i];
    if (c->key != r.target.host_header) continue;
    idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(i));
    if (readable_now(*c)) {  // closed by the server (or it sent what nobody asked for)
      close_connection(*c);
      continue;
    }
    c->request = &r;
    r.conn = c;
    write_request(*c);
    return;
  }
  open_connection(r);
}

// Whether an idle connection has bytes or its end waiting: a response to the next request could
// not be told from them, so it is not reused (libcurl checks its cached connections the same way).
bool PlainPoster::readable_now(Connection& c) {
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&c.tcp), &fd) != 0) return true;
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) != 0;
}

void PlainPoster::open_connection(Request& r) {
  r.addresses.clear();
  r.next_address = 0;
  r.connecting = true;
  r.connect_started_ms = uv_now(loop_);
  arm_timer(r);
  sockaddr_storage ss{};
  if (uv_ip4_addr(r.target.host.c_str(), r.target.port, reinterpret_cast<sockaddr_in*>(&ss)) == 0 ||
      uv_ip6_addr(r.target.host.c_str(), r.target.port, reinterpret_cast<sockaddr_in6*>(&ss)) == 0) {
    r.addresses.push_back(ss);
    connect_next(r);
    return;
  }
  auto* q = new Resolve;
  q->owner = weak_from_this();
  q->id = r.id;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  const std::string port = std::to_string(r.target.port);
  if (uv_getaddrinfo(loop_, &q->req, on_resolved, r.target.host.c_str(), port.c_str(), &hints) != 0) {
    delete q;
    fail(r, "Could not resolve host: " + r.target.host);
  }
}

void PlainPoster::on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res) {
  std::unique_ptr<Resolve> q(reinterpret_cast<Resolve*>(req));
  std::shared_ptr<PlainPoster> self = q->owner.lock();
  Request* found = nullptr;
  if (self && !self->closed_)
    if (auto it = self->requests_.find(q->id); it != self->requests_.end()) found = it->second.get();
  if (!found || found->conn || !found->connecting) {  // gone, or timed out and failed meanwhile
    uv_freeaddrinfo(res);
    return;
  }
  Request& r = *found;
  for (addrinfo* a = status == 0 ? res : nullptr; a; a = a->ai_next) {
    sockaddr_storage ss{};
    std::memcpy(&ss, a->ai_addr, std::min<size_t>(a->ai_addrlen, sizeof ss));
    r.addresses.push_back(ss);
  }
  uv_freeaddrinfo(res);
  if (r.addresses.empty()) {
    self->fail(r, "Could not resolve host: " + r.target.host);
    return;
  }
  self->connect_next(r);
}

void PlainPoster::connect_next(Request& r) {
  while (r.next_address < r.addresses.size()) {
    const sockaddr* addr = reinterpret_cast<const sockaddr*>(&r.addresses[r.next_address++]);
    auto* c = new Connection;
    c->owner = this;
    c->key = r.target.host_header;
    uv_tcp_init(loop_, &c->tcp);
    c->tcp.data = c;
    c->connect_req.data = c;
    c->write_req.data = c;
    uv_tcp_nodelay(&c->tcp, 1);
    const int rc = uv_tcp_connect(&c->connect_req, &c->tcp, addr, on_connect);
    if (rc == 0) {
      c->request = &r;
      r.conn = c;
      return;
    }
    r.connect_error = uv_strerror(rc);
    close_connection(*c);
  }
  fail(r, "Failed to connect to " + r.target.host + " port " + std::to_string(r.target.port) + ": " +
              (r.connect_error.empty() ? "no address" : r.connect_error));
}

void PlainPoster::on_connect(uv_connect_t* req, int status) {
  auto* c = static_cast<Connection*>(req->data);
  if (c->closing) return;
  PlainPoster& self = *c->owner;
  Request& r = *c->request;
  if (status < 0) {
    r.connect_error = uv_strerror(status);
    c->request = nullptr;
    r.conn = nullptr;
    self.close_connection(*c);
    self.connect_next(r);
    return;
  }
  uv_tcp_keepalive(&c->tcp, 1, 60);
  r.connecting = false;
  self.arm_timer(r);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), on_alloc, on_read);
  self.write_request(*c);
}

void PlainPoster::write_request(Connection& c) {
  Request& r = *c.request;
  r.reader = std::make_unique<ResponseReader>(r.request.max_response_bytes);
  // uv_buf_t lengths are 32-bit: a body is one buffer per GiB.
  constexpr size_t kMaxBuf = size_t(1) << 30;
  uv_buf_t bufs[8];
  unsigned n = 0;
  bufs[n++] = uv_buf_init(r.head.data(), static_cast<unsigned>(r.head.size()));
  for (size_t at = 0; at < r.body.size() && n < 8; at += kMaxBuf)
    bufs[n++] = uv_buf_init(const_cast<char*>(r.body.data() + at),
                            static_cast<unsigned>(std::min(kMaxBuf, r.body.size() - at)));
  const int rc = uv_write(&c.write_req, reinterpret_cast<uv_stream_t*>(&c.tcp), bufs, n, on_write);
  if (rc != 0) {
    connection_failed(c, std::string("Send failure: ") + uv_strerror(rc));
    return;
  }
  c.writing = true;
}

void PlainPoster::on_write(uv_write_t* req, int status) {
  auto* c = static_cast<Connection*>(req->data);
  c->writing = false;
  if (c->closing || status == 0 || !c->request) return;
  c->owner->connection_failed(*c, std::string("Send failure: ") + uv_strerror(status));
}

void PlainPoster::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(h->data);
  *buf = uv_buf_init(c->buffer, sizeof c->buffer);
}

void PlainPoster::on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(s->data);
  if (c->closing || n == 0) return;
  c->owner->on_response_bytes(*c, n, buf->base);
}

void PlainPoster::on_response_bytes(Connection& c, ssize_t n, const char* data) {
  if (!c.request) {  // idle: the server closed it (or sent what nobody asked for)
    close_connection(c);
    return;
  }
  Request& r = *c.request;
  ResponseReader& reader = *r.reader;
  ResponseReader::State state;
  if (n > 0) {
    state = reader.feed(std::string_view(data, static_cast<size_t>(n)));
  } else if (n == UV_EOF) {
    state = reader.finish_at_eof();
  } else {
    connection_failed(c, std::string("Recv failure: ") + uv_strerror(static_cast<int>(n)));
    return;
  }
  if (state == ResponseReader::State::Complete) {
    complete(r, &c);
  } else if (state == ResponseReader::State::Error) {
    if (reader.body_too_large()) {
      fail(r, reader.error());
    } else if (!reader.started()) {
      connection_failed(c, "Empty reply from server");
    } else {
      fail(r, "invalid response from " + r.target.host_header + ": " + reader.error());
    }
  }
}

void PlainPoster::connection_failed(Connection& c, const std::string& what) {
  Request* r = c.request;
  const bool reused = c.reused;
  c.request = nullptr;
  close_connection(c);
  if (!r) return;
  r->conn = nullptr;
  // A kept-alive connection the server had closed: the request never reached it. Once more on a
  // new connection, as libcurl does.
  if (reused && !r->retried && !(r->reader && r->reader->started())) {
    r->retried = true;
    open_connection(*r);
    return;
  }
  fail(*r, what);
}

void PlainPoster::complete(Request& r, Connection* c) {
  HttpResponse resp;
  resp.status = r.reader->status();
  resp.reason = r.reader->reason();
  resp.headers = std::move(r.reader->headers());
  resp.body = std::move(r.reader->body());
  // A response may come before the whole request was written (an early error): that connection
  // is closed, which also stops the write from reading the caller's body after the callback.
  const bool reuse = r.reader->reusable() && !c->writing;
  r.conn = nullptr;
  c->request = nullptr;
  if (reuse && !closed_) {
    c->reused = true;
    idle_.push_back(c);
    if (idle_.size() > std::max<size_t>(options_.pool_size, 1)) close_connection(*idle_.front());
  } else {
    close_connection(*c);
  }
  finish(r.id, std::move(resp));
}

void PlainPoster::fail(Request& r, std::string error, bool timed_out) {
  if (Connection* c = r.conn) {
    c->request = nullptr;
    r.conn = nullptr;
    close_connection(*c);
  }
  HttpResponse resp;
  resp.error = std::move(error);
  resp.timed_out = timed_out;
  finish(r.id, std::move(resp));
}

// Every callback runs from the defer timer: never inside send() or cancel(), and after this
// poster's state is settled (a callback may send, cancel or close).
void PlainPoster::finish(uint64_t id, HttpResponse response) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  std::unique_ptr<Request> r = std::move(it->second);
  requests_.erase(it);
  if (r->timer) close_and_delete(r->timer);
  if (r->active) --busy_connections_;
  queued_.erase(std::remove(queued_.begin(), queued_.end(), id), queued_.end());
  response.seconds = static_cast<double>(uv_now(loop_) - r->started_ms) / 1000.0;
  deferred_.emplace_back(std::move(r->callback), std::move(response));
  if (!defer_timer_) {
    defer_timer_ = new uv_timer_t;
    uv_timer_init(loop_, defer_timer_);
    defer_timer_->data = this;
  }
  uv_timer_start(defer_timer_, on_defer, 0, 0);
  start_queued();
}

void PlainPoster::on_defer(uv_timer_t* t) {
  auto* self = static_cast<PlainPoster*>(t->data);
  auto keep = self->shared_from_this();
  auto list = std::move(self->deferred_);
  self->deferred_.clear();
  for (auto& [callback, response] : list) {
    if (self->closed_) return;
    callback(std::move(response));
  }
}

void PlainPoster::start_queued() {
  while (!queued_.empty() && busy_connections_ < std::max<size_t>(options_.max_concurrent, 1)) {
    const uint64_t id = queued_.front();
    queued_.pop_front();
    if (auto it = requests_.find(id); it != requests_.end()) dispatch(*it->second);
  }
}

void PlainPoster::arm_timer(Request& r) {
  const uint64_t now = uv_now(loop_);
  uint64_t deadline = UINT64_MAX;
  if (r.request.timeout_ms > 0) deadline = r.started_ms + static_cast<uint64_t>(r.request.timeout_ms);
  if (r.connecting && r.request.connect_timeout_ms > 0)
    deadline = std::min(deadline, r.connect_started_ms + static_cast<uint64_t>(r.request.connect_timeout_ms));
  if (deadline == UINT64_MAX) {
    if (r.timer) uv_timer_stop(&r.timer->handle);
    return;
  }
  if (!r.timer) {
    r.timer = new Request::Timer;
    r.timer->owner = this;
    r.timer->id = r.id;
    uv_timer_init(loop_, &r.timer->handle);
    r.timer->handle.data = r.timer;
  }
  uv_timer_start(&r.timer->handle, on_timer, deadline > now ? deadline - now : 0, 0);
}

void PlainPoster::on_timer(uv_timer_t* t) {
  auto* box = static_cast<Request::Timer*>(t->data);
  PlainPoster& self = *box->owner;
  auto it = self.requests_.find(box->id);
  if (it == self.requests_.end()) return;
  Request& r = *it->second;
  const uint64_t elapsed = uv_now(self.loop_) - (r.connecting ? r.connect_started_ms : r.started_ms);
  if (r.connecting) {
    self.fail(r, "Connection timed out after " + std::to_string(elapsed) + " milliseconds", true);
  } else {
    const size_t got = r.reader ? r.reader->body().size() : 0;
    self.fail(r, "Operation timed out after " + std::to_string(elapsed) + " milliseconds with " +
                     std::to_string(got) + " bytes received", true);
  }
}

bool PlainPoster::cancel(uint64_t id) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return false;
  fail(*it->second, "cancelled");
  return true;
}

void PlainPoster::close_connection(Connection& c) {
  if (c.closing) return;
  c.closing = true;
  idle_.erase(std::remove(idle_.begin(), idle_.end(), &c), idle_.end());
  auto* h = reinterpret_cast<uv_handle_t*>(&c.tcp);
  if (!uv_is_closing(h)) uv_close(h, [](uv_handle_t* x) { delete static_cast<Connection*>(x->data); });
}

void PlainPoster::close() {
  if (closed_) return;
  closed_ = true;
  for (auto& [id, r] : requests_) {
    if (r->conn) {
      r->conn->request = nullptr;
      close_connection(*r->conn);
    }
    if (r->timer) close_and_delete(r->timer);
  }
  requests_.clear();
  queued_.clear();
  for (Connection* c : std::vector<Connection*>(idle_)) close_connection(*c);
  idle_.clear();
  deferred_.clear();
  if (defer_timer_) close_and_delete(defer_timer_);
  defer_timer_ = nullptr;
}

}  // namespace sluice::http
