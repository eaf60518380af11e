// POST requests over plain HTTP/1.1 on the libuv loop, for HttpClient's bulk bodies: the request
// head and the caller's body go to the socket in one write of two buffers, so the body is never
// copied (libcurl copies every body into its upload buffer before sending it, which cost ~10 % of
// the CPU of an Elasticsearch pipeline). Keep-alive connections per host and port are reused; a
// reused connection the server closed before answering is retried once on a new one.
//
// HttpClient routes a request here when plain_target() accepts it (POST to http:// without a
// proxy); everything else (TLS, proxies, GET, compressed responses) stays with libcurl.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "http/http_client.h"

namespace sluice::http {

struct PlainTarget {
  std::string host;        // name or address, without IPv6 brackets
  int port = 80;
  std::string host_header;  // `host[:port]` as sent in Host
  std::string path;         // path and query
};

// Whether `r` can go over PlainPoster, and where to. Declines (false) anything libcurl must
// handle: another method or scheme, a proxy (option or environment), credentials in the URL,
// compressed responses, header fields with line breaks.
bool plain_target(const HttpRequest& r, PlainTarget& target);
// The head of `r` to `target` with a body of body_size bytes: the header fields libcurl would send
// for the same request (its defaults give way to the caller's fields of the same name).
std::string plain_request_head(const PlainTarget& target, const HttpRequest& r, size_t body_size,
                               const std::string& user_agent);

class PlainPoster : public std::enable_shared_from_this<PlainPoster> {
 public:
  PlainPoster(uv_loop_t* loop, const HttpClient::Options& options);
  ~PlainPoster();
  PlainPoster(const PlainPoster&) = delete;
  PlainPoster& operator=(const PlainPoster&) = delete;

  // Starts request `id` (HttpClient's numbering). The callback runs once on the loop thread,
  // never inside send() or cancel(), unless close() is called first.
  void send(uint64_t id, PlainTarget target, HttpRequest request, ResponseCallback callback);
  // True when `id` was this poster's: its callback gets error "cancelled" (later).
  bool cancel(uint64_t id);
  // Drops every request without callbacks and closes every connection and handle.
  void close();
  size_t in_flight() const { return requests_.size(); }

  struct Request;
  struct Connection;

 private:
  void dispatch(Request& r);
  void open_connection(Request& r);
  void connect_next(Request& r);
  void write_request(Connection& c);
  void on_response_bytes(Connection& c, ssize_t n, const char* data);
  void connection_failed(Connection& c, const std::string& what);
  void complete(Request& r, Connection* c);
  void fail(Request& r, std::string error, bool timed_out = false);
  void finish(uint64_t id, HttpResponse response);
  void start_queued();
  void close_connection(Connection& c);
  static bool readable_now(Connection& c);
  void arm_timer(Request& r);

  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res);
  static void on_connect(uv_connect_t* req, int status);
  static void on_write(uv_write_t* req, int status);
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf);
  static void on_timer(uv_timer_t* t);
  static void on_defer(uv_timer_t* t);

  uv_loop_t* loop_;
  HttpClient::Options options_;
  bool closed_ = false;
  std::map<uint64_t, std::unique_ptr<Request>> requests_;
  std::deque<uint64_t> queued_;                 // waiting for a connection slot
  std::vector<Connection*> idle_;               // kept-alive connections, most recent last
  size_t busy_connections_ = 0;                 // connecting or carrying a request
  std::vector<std::pair<ResponseCallback, HttpResponse>> deferred_;
  uv_timer_t* defer_timer_ = nullptr;
};

}  // namespace sluice::http
