#include "http_server.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <unordered_set>

#include "core/log.h"
#include "core/tcp_listen.h"
#include "core/uv_handle.h"
#include "http/server_connection.h"

namespace sluice::in_http {

namespace {

constexpr uint64_t kLingerMs = 2'000;  // waiting for the peer to close after a final answer
constexpr size_t kMaxDrain = 1 << 20;  // bytes read and dropped after a final answer
constexpr size_t kMaxConnections = 1024;
// Answers queued for a client that does not read them: past this, its requests wait unread.
constexpr size_t kMaxUnsentAnswers = 1 << 20;

class HttpInput : public Input {
 public:
  HttpInput(PluginContext& ctx, Settings s, std::unique_ptr<ParserPlugin> custom)
      : loop_(ctx.loop),
        emitter_(ctx.emitter),
        flow_(ctx.flow),
        id_(ctx.id),
        s_(std::move(s)),
        handler_(s_.handler, std::move(custom)),
        alive_(std::make_shared<bool>(true)),
        m_records_(ctx.counter("sluice_input_records_total")),
        m_bytes_(ctx.counter("sluice_input_bytes_total")),
        m_requests_(ctx.counter("sluice_http_requests_total")),
        m_bad_requests_(ctx.counter("sluice_http_bad_requests_total")),
        m_skipped_(ctx.counter("sluice_http_skipped_records_total")) {
    if (ctx.dry_run) return;
    sockaddr_storage addr;
    if (!ip_address(s_.bind, s_.port, addr))
      throw ConfigException(ctx.section->pos, "http: bind '" + s_.bind + "' is not an IP address");
    std::string error;
    server_ = listen_tcp_shared(
        loop_, id_, ctx.worker_id, ctx.workers, addr, s_.backlog, this,
        [](uv_stream_t* server, int status) {
          if (server->data && status == 0) static_cast<HttpInput*>(server->data)->accept();
        },
        error);
    if (!server_)
      throw ConfigException(ctx.section->pos, "http: cannot listen on " + s_.bind + ":" +
                                                  std::to_string(s_.port) + ": " + error);
  }

  ~HttpInput() override {
    *alive_ = false;
    stop();
  }

  void start() override {
    if (!server_) return;
    if (flow_)
      flow_->on_resume([this, alive = std::weak_ptr<bool>(alive_)] {
        auto a = alive.lock();
        if (a && *a) resume();
      });
    log::info("[" + id_ + "] listening http bind=\"" + s_.bind + "\" port=" + std::to_string(s_.port));
  }

  void stop() override {
    stopped_ = true;
    if (server_ && uv_is_closing(reinterpret_cast<uv_handle_t*>(server_))) server_->data = nullptr;
    if (server_ && !server_->data) server_ = nullptr;
    close_uv_handle(server_);
    for (Conn* c : std::vector<Conn*>(conns_.begin(), conns_.end())) close_conn(c);
  }

 private:
  struct Conn {
    explicit Conn(const ReaderLimits& l) : reader(l) {}
    HttpInput* owner = nullptr;
    uv_tcp_t tcp;
    uv_timer_t timer;
    std::string peer_ip;
    std::string buf;  // bytes of the current request and any pipelined after it
    RequestReader reader;
    size_t drained = 0;
    bool reading = false;
    bool answers_backed_up = false;  // kMaxUnsentAnswers reached
    bool finished = false;  // the final answer is written or on its way: only draining now
    bool closing = false;
    int handles = 2;  // tcp and timer: freed when both are closed
  };
  struct WriteReq {
    uv_write_t req;
    std::string data;
    Conn* conn;
    bool last;
  };

  void accept() {
    auto* c = new Conn(s_.limits);
    c->owner = this;
    uv_tcp_init(loop_, &c->tcp);
    uv_timer_init(loop_, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    if (uv_accept(reinterpret_cast<uv_stream_t*>(server_), reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
      c->owner = nullptr;
      c->closing = true;
      http::close_tcp_and_timer(c);
      return;
    }
    conns_.insert(c);
    sockaddr_storage ss{};
    int len = sizeof ss;
    uv_tcp_getpeername(&c->tcp, reinterpret_cast<sockaddr*>(&ss), &len);
    char ip[INET6_ADDRSTRLEN] = "";
    if (ss.ss_family == AF_INET) uv_ip4_name(reinterpret_cast<sockaddr_in*>(&ss), ip, sizeof ip);
    if (ss.ss_family == AF_INET6) uv_ip6_name(reinterpret_cast<sockaddr_in6*>(&ss), ip, sizeof ip);
    c->peer_ip = ip;
    if (conns_.size() > kMaxConnections) {
      log::warn_once("http.busy." + id_, "[" + id_ + "] more than " + std::to_string(kMaxConnections) +
                                              " connections at once; refusing more with 503");
      answer(c, error_response(503, "too many connections"));
      return;
    }
    arm_idle_timer(c);
    start_reading(c);
  }

  void arm_idle_timer(Conn* c) {
    uv_timer_start(&c->timer, [](uv_timer_t* t) {
      auto* c = static_cast<Conn*>(t->data);
      if (!c->owner || c->closing) return;
      // Idle between requests: close quietly (keepalive_timeout); in the middle of one: say so.
      // A request held back while the outputs are full is not the peer's delay.
      if (c->owner->paused_ && !c->finished && !c->buf.empty()) c->owner->arm_idle_timer(c);
      else if (c->buf.empty() || c->finished) c->owner->close_conn(c);
      else c->owner->answer(c, error_response(408, "the request did not arrive in time"));
    }, s_.keepalive_ms, 0);
  }

  void start_reading(Conn* c) {
    if (c->closing || c->reading || (!c->finished && (paused_ || c->answers_backed_up))) return;
    c->reading = true;
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&c->tcp),
        [](uv_handle_t* h, size_t, uv_buf_t* b) {
          auto* self = static_cast<Conn*>(h->data)->owner;
          static char none[1];
          *b = self ? uv_buf_init(self->read_buf_, sizeof self->read_buf_) : uv_buf_init(none, 0);
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
          auto* c = static_cast<Conn*>(s->data);
          if (c->owner && !c->closing) c->owner->on_read(c, n, b);
        });
  }

  void stop_reading(Conn* c) {
    if (!c->reading || c->closing) return;
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&c->tcp));
    c->reading = false;
  }

  void on_read(Conn* c, ssize_t n, const uv_buf_t* b) {
    if (n == 0) return;
    if (n < 0) {
      close_conn(c);
      return;
    }
    bump(m_bytes_, uint64_t(n));
    if (c->finished) {
      // Reading what the peer still sends, so that closing does not reset the answer away.
      c->drained += size_t(n);
      if (c->drained > kMaxDrain) close_conn(c);
      return;
    }
    arm_idle_timer(c);
    c->buf.append(b->base, size_t(n));
    process(c);
  }

  // Handles every complete request in c->buf, in order.
  void process(Conn* c) {
    while (!c->closing && !c->finished && !c->buf.empty()) {
      if (uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(&c->tcp)) > kMaxUnsentAnswers)
        c->answers_backed_up = true;
      if (paused_ || c->answers_backed_up) {
        stop_reading(c);
        return;
      }
      auto state = c->reader.feed(c->buf);
      if (c->reader.take_continue()) write(c, "HTTP/1.1 100 Continue\r\n\r\n", false);
      if (state == RequestReader::State::NeedMore) return;
      if (state == RequestReader::State::Error) {
        bump(m_bad_requests_);
        if (s_.dump_error_log)
          log::warn("[" + id_ + "] refusing a request from " + c->peer_ip + " with " +
                    std::to_string(c->reader.status()) + ": " + c->reader.reason());
        answer(c, error_response(c->reader.status(), c->reader.reason()));
        return;
      }
      handle(c);
      if (c->closing || c->finished) return;
      c->buf.erase(0, c->reader.consumed());
      c->reader.reset();
    }
    if (c->buf.empty() && c->buf.capacity() > (1u << 20)) std::string().swap(c->buf);  // after a large body
  }

  void handle(Conn* c) {
    bump(m_requests_);
    BodyInfo info;
    Response r = handler_.handle(c->reader.head(), c->reader.body(), c->peer_ip,
                                          c->reader.keep_alive(), batch_, info);
    if (info.skipped > 0) {
      bump(m_skipped_, info.skipped);
      log::warn_once("http.skipped." + id_,
                     "[" + id_ + "] skipped " + std::to_string(info.skipped) + " record(s) of a request to " +
                         log::quote_excerpt(c->reader.head().path, 200) + ": " + info.skip_reason +
                         " (further ones are counted in sluice_http_skipped_records_total)");
    }
    if (r.status == 400) {
      bump(m_bad_requests_);
      if (s_.dump_error_log)
        log::warn("[" + id_ + "] bad request from " + c->peer_ip + " to " +
                  log::quote_excerpt(c->reader.head().path, 200) + ": " +
                  r.error);
    }
    if (!batch_.records.empty()) {
      bump(m_records_, batch_.records.size());
      emitter_->emit(batch_);
    }
    batch_.clear();
    if (flow_ && flow_->blocked()) pause();
    // A HEAD is answered as Fluentd does (like a POST), so the answer has a body: not reusable.
    if (r.close || c->reader.head().method == "HEAD") answer(c, r);
    else write(c, serialize(r), false);
  }

  // The last answer on the connection: written, then the connection is closed.
  void answer(Conn* c, const Response& r) {
    c->finished = true;
    c->buf = std::string();
    start_reading(c);  // to drain
    uv_timer_start(&c->timer, [](uv_timer_t* t) {
      auto* c = static_cast<Conn*>(t->data);
      if (c->owner && !c->closing) c->owner->close_conn(c);
    }, kLingerMs + s_.keepalive_ms, 0);
    write(c, serialize(r), true);
  }

  void write(Conn* c, std::string data, bool last) {
    auto* w = new WriteReq{{}, std::move(data), c, last};
    uv_buf_t b = uv_buf_init(w->data.data(), unsigned(w->data.size()));
    int rc =
        uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&c->tcp), &b, 1, [](uv_write_t* req, int status) {
          auto* w = reinterpret_cast<WriteReq*>(req);
          Conn* c = w->conn;
          bool last = w->last;
          delete w;
          if (!c->owner || c->closing) return;
          if (status < 0)
            c->owner->close_conn(c);
          else if (last)
            c->owner->after_last_write(c);
          else if (c->answers_backed_up)
            c->owner->answers_sent(c);
        });
    if (rc != 0) {
      delete w;
      close_conn(c);
    }
  }

  // The client reads its answers again: its waiting requests go on once they are all out.
  void answers_sent(Conn* c) {
    if (uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(&c->tcp)) > 0) return;
    c->answers_backed_up = false;
    process(c);
    if (!c->closing) start_reading(c);
  }

  // The final answer is out: half-close, then wait (bounded) for the peer to close its side.
  void after_last_write(Conn* c) {
    if (!http::shutdown_and_linger(&c->tcp, &c->timer, kLingerMs, [](uv_timer_t* t) {
          auto* c = static_cast<Conn*>(t->data);
          if (c->owner && !c->closing) c->owner->close_conn(c);
        }))
      close_conn(c);
  }

  void close_conn(Conn* c) { http::close_connection(c, conns_); }

  // Outputs are full: requests wait (unread) until they drain, as Fluentd's emit would block.
  void pause() {
    paused_ = true;
    for (Conn* c : conns_)
      if (!c->finished) stop_reading(c);
  }

  void resume() {
    if (!paused_ || stopped_) return;
    paused_ = false;
    for (Conn* c : std::vector<Conn*>(conns_.begin(), conns_.end())) {
      if (paused_) break;
      if (conns_.count(c) == 0) continue;
      process(c);
      if (conns_.count(c)) start_reading(c);
    }
  }

  uv_loop_t* loop_;
  Emitter* emitter_;
  FlowControl* flow_;
  std::string id_;
  Settings s_;
  RequestHandler handler_;
  std::shared_ptr<bool> alive_;
  uv_tcp_t* server_ = nullptr;
  std::unordered_set<Conn*> conns_;
  Batch batch_;
  bool paused_ = false;
  bool stopped_ = false;
  char read_buf_[64 * 1024];

  Counter& m_records_;
  Counter& m_bytes_;
  Counter& m_requests_;
  Counter& m_bad_requests_;
  Counter& m_skipped_;
};

}  // namespace

std::unique_ptr<Input> make_server(PluginContext& ctx, Settings settings,
                                   std::unique_ptr<ParserPlugin> custom) {
  return std::make_unique<HttpInput>(ctx, std::move(settings), std::move(custom));
}

}  // namespace sluice::in_http
