// `<match> @type forward`: sends buffer chunks to Fluentd-compatible servers as Fluentd's
// out_forward does (see README.md): PackedForward `[tag, str32(entries), {size, compressed,
// chunk}]`, entries being the chunk's msgpack `[time, record]` pairs formatted at write() time.
// With require_ack_response the chunk is done (its records' claims released, so in_tail's
// position may pass them) only when `{"ack": chunk}` comes back; otherwise when the write is done.
// Failures try the next server at once, then the buffer retries with backoff.
#include "forward_output.h"
#include "../in_forward/forward_handshake.h"

#include <netdb.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "core/log.h"
#include "core/uv_handle.h"
#include "format/msgpack.h"
#include "forward_frame.h"
#include "../in_forward/forward_decoder.h"

namespace sluice {

namespace forward_out {

namespace {

class ForwardOutput : public Output {
 public:
  ForwardOutput(PluginContext& ctx, Settings s, buffer::Config bc)
      : loop_(ctx.loop),
        id_(ctx.id),
        dry_run_(ctx.dry_run),
        s_(std::move(s)),
        rng_(std::random_device{}()),
        alive_(std::make_shared<bool>(true)),
        m_records_(ctx.counter("sluice_output_records_total")),
        m_bytes_(ctx.counter("sluice_output_bytes_total")),
        m_wire_bytes_(ctx.counter("sluice_output_wire_bytes_total")),
        m_sends_(ctx.counter("sluice_forward_sends_total")),
        m_send_failures_(ctx.counter("sluice_forward_send_failures_total")),
        m_acks_(ctx.counter("sluice_forward_acks_total")),
        m_refused_(ctx.counter("sluice_output_refused_records_total")) {
    buffer::Buffer::Hooks hooks;
    hooks.send = [this](buffer::Chunk& c, buffer::SendDone done) { send_chunk(c, std::move(done)); };
    hooks.give_up = [this](const buffer::Chunk& c, const std::string&) { chunk_ids_.erase(c.id); };
    hooks.abort = [this] { abort_all("shutdown"); };
    buffer_ = std::make_unique<buffer::Buffer>(loop_, std::move(bc), ctx.flow, ctx.metrics, id_,
                                               std::move(hooks));
    buffer_->set_secondary(ctx.make_secondary(*ctx.section));
  }

  ~ForwardOutput() override {
    *alive_ = false;
    abort_all("shutdown");
    close_uv_handle(hb_timer_);
    buffer_.reset();
  }

  void start() override {
    if (dry_run_) return;
    buffer_->start();
    if (s_.heartbeat) {
      hb_timer_ = new uv_timer_t;
      uv_timer_init(loop_, hb_timer_);
      hb_timer_->data = this;
      uint64_t ms = uint64_t(std::max(0.05, s_.heartbeat_interval) * 1000);
      uv_timer_start(hb_timer_, [](uv_timer_t* t) { static_cast<ForwardOutput*>(t->data)->heartbeat(); },
                     ms, ms);
    }
  }

  void write(const Batch& batch) override {
    if (batch.records.empty()) return;
    if (buffer_->refuses(batch.records.size(), m_refused_)) return;
    // Entries go to the chunk in runs: one buffer record count per run, not per entry.
    const auto& records = batch.records;
    for (size_t i = 0; i < records.size();) {
      std::string& out = buffer_->begin_record(batch.tag, records[i].time, {}, batch.claim);
      const size_t limit = buffer_->run_limit();
      const size_t first = i;
      size_t last_start = 0;
      do {
        last_start = out.size();
        append_entry(out, batch, records[i++]);
      } while (i < records.size() && out.size() < limit);
      buffer_->end_records(i - first, last_start);
    }
    buffer_->batch_done();
  }

  void append_entry(std::string& out, const Batch& batch, const Record& r) const {
    if (s_.time_as_integer) {
      msgpack::append_array_header(out, 2);
      msgpack::append_int(out, r.time.sec);
      msgpack::append_record(out, batch, r);
    } else {
      msgpack::append_entry(out, batch, r);
    }
  }

  void close(std::function<void()> done) override {
    closing_ = true;
    if (hb_timer_) uv_timer_stop(hb_timer_);
    auto alive = alive_;
    buffer_->close([this, alive, done = std::move(done)] {
      if (*alive) {
        close_uv_handle(hb_timer_);
        abort_all("shutdown");
      }
      done();
    });
  }

 private:
  struct Job {
    buffer::Chunk* chunk = nullptr;
    buffer::SendDone done;
    std::string head, options, compressed;
    std::string_view entries;
    std::string chunk_id;  // base64 + \n, empty without acks
    std::vector<Server*> order;
    size_t next = 0;
    std::string reasons;
    bool finished = false;
  };

  // One TCP exchange with one server: resolve, connect, write, (read the ack), close.
  struct Attempt {
    ForwardOutput* owner = nullptr;
    std::shared_ptr<Job> job;  // null for a heartbeat
    Server* server = nullptr;
    uv_getaddrinfo_t gai;
    uv_connect_t connect;
    uv_write_t wreq;
    uv_write_t ping_req;
    uv_tcp_t tcp;
    uv_timer_t timer;
    int refs = 0;
    bool tcp_open = false;
    bool done = false;
    bool connected = false;
    std::string resp;
    char rbuf[4096];
    std::unique_ptr<forward::ClientHandshake> handshake;
    std::string ping;
    bool helo_seen = false;
    bool reading = false;
    // transport tls: what goes out is encrypted into tls_queued and written from tls_writing,
    // one write at a time; the chunk counts as written once the queue behind it has drained.
    std::unique_ptr<TlsSession> tls;
    std::string tls_queued, tls_writing;
    uv_write_t tls_req;
    bool tls_chunk_queued = false;
    bool reused = false;     // kept from an earlier chunk (keepalive)
    bool timed_out = false;
    // Idle: parked between chunks with keepalive, reading only to notice the server closing it.
    enum class Phase { Resolve, Connect, Tls, Handshake, Write, Ack, Idle } phase = Phase::Resolve;
  };


  double now() const { return double(uv_now(loop_)) / 1000.0; }

  void send_chunk(buffer::Chunk& c, buffer::SendDone done) {
    auto job = std::make_shared<Job>();
    job->chunk = &c;
    job->done = std::move(done);
    if (!compress_entries(c.payload, s_.compress, job->compressed)) {
      finish_job(job, false, s_.compress + " could not compress the chunk");
      return;
    }
    job->entries = s_.compress == "text" ? std::string_view(c.payload) : std::string_view(job->compressed);
    if (s_.require_ack) {
      auto it = chunk_ids_.find(c.id);
      if (it == chunk_ids_.end()) {
        // A 16-byte unique id per chunk, the same on every retry (Fluentd's chunk.unique_id).
        const uint64_t high = rng_();
        it = chunk_ids_.emplace(c.id, chunk_id(high, rng_())).first;
      }
      job->chunk_id = it->second;
    }
    job->head = frame_head(c.tag, job->entries.size());
    job->options = frame_options(c.records, s_.compress, job->chunk_id);
    job->order = order_servers(s_.servers, now());
    jobs_.insert(job.get());
    try_next(job);
  }

  void try_next(const std::shared_ptr<Job>& job) {
    if (job->finished) return;
    if (closing_aborted_ || job->next >= job->order.size()) {
      finish_job(job, false, job->reasons.empty() ? "no server to send to" : job->reasons);
      return;
    }
    Server* sv = job->order[job->next++];
    start_attempt(job, sv);
  }

  void finish_job(const std::shared_ptr<Job>& job, bool ok, const std::string& why) {
    if (job->finished) return;
    job->finished = true;
    jobs_.erase(job.get());
    auto done = std::move(job->done);
    if (ok) {
      bump(m_records_, job->chunk->records);
      bump(m_bytes_, job->chunk->payload.size());
      chunk_ids_.erase(job->chunk->id);
      done(buffer::SendResult::success());
    } else {
      bump(m_send_failures_);
      done(buffer::SendResult::retry(why));
    }
  }

  void start_attempt(const std::shared_ptr<Job>& job, Server* sv) {
    if (Attempt* idle = job ? take_idle(sv) : nullptr) {
      idle->job = job;
      send_chunk_data(idle);
      return;
    }
    auto* a = new Attempt;
    a->owner = this;
    a->job = job;
    a->server = sv;
    a->gai.data = a;
    a->connect.data = a;
    a->wreq.data = a;
    a->ping_req.data = a;
    a->tls_req.data = a;
    a->tcp.data = a;
    a->timer.data = a;
    attempts_.insert(a);
    uv_timer_init(loop_, &a->timer);
    a->refs = 1;
    double ct = s_.connect_timeout > 0 ? s_.connect_timeout : s_.send_timeout;
    if (!job) ct = std::max(0.5, std::min(ct, s_.heartbeat_interval * 2));
    arm(a, ct);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    ++a->refs;
    int rc = uv_getaddrinfo(loop_, &a->gai, [](uv_getaddrinfo_t* g, int status, addrinfo* res) {
      auto* a = static_cast<Attempt*>(g->data);
      a->owner->on_resolved(a, status, res);
      if (res) uv_freeaddrinfo(res);
      a->owner->unref(a);
    }, sv->host.c_str(), std::to_string(sv->port).c_str(), &hints);
    if (rc != 0) {
      --a->refs;
      fail(a, std::string("cannot resolve ") + sv->host + ": " + uv_strerror(rc), true);
    }
  }

  void arm(Attempt* a, double seconds) {
    uv_timer_start(&a->timer, [](uv_timer_t* t) {
      auto* a = static_cast<Attempt*>(t->data);
      if (a->phase == Attempt::Phase::Idle) {  // keepalive_timeout
        a->owner->finish_attempt(a);
        return;
      }
      a->timed_out = true;
      const char* what = a->phase == Attempt::Phase::Resolve   ? "resolving the host"
                         : a->phase == Attempt::Phase::Connect ? "connecting (connect_timeout)"
                         : a->phase == Attempt::Phase::Tls     ? "in the TLS handshake (send_timeout)"
                         : a->phase == Attempt::Phase::Handshake ? "in the handshake (send_timeout)"
                         : a->phase == Attempt::Phase::Write   ? "writing (send_timeout)"
                                                               : "waiting for the ack (ack_response_timeout)";
      a->owner->fail(a, std::string("timed out ") + what, a->phase != Attempt::Phase::Ack);
    }, uint64_t(seconds * 1000), 0);
  }

  void on_resolved(Attempt* a, int status, addrinfo* res) {
    if (a->done) return;
    if (status != 0 || !res) {
      fail(a, "cannot resolve " + a->server->host + ": " + uv_strerror(status), true);
      return;
    }
    a->phase = Attempt::Phase::Connect;
    uv_tcp_init(loop_, &a->tcp);
    a->tcp_open = true;
    ++a->refs;
    uv_tcp_nodelay(&a->tcp, 1);
    int rc = uv_tcp_connect(&a->connect, &a->tcp, res->ai_addr, [](uv_connect_t* c, int status) {
      auto* a = static_cast<Attempt*>(c->data);
      if (a->done) return;
      if (status != 0) {
        a->owner->fail(a, std::string("cannot connect: ") + uv_strerror(status), true);
        return;
      }
      a->connected = true;
      a->owner->on_connected(a);
    });
    if (rc != 0) fail(a, std::string("cannot connect: ") + uv_strerror(rc), true);
  }

  void on_connected(Attempt* a) {
    if (!a->job) {  // heartbeat: the connect is the whole exchange
      heartbeat_result(a->server, true, "");
      finish_attempt(a);
      return;
    }
    if (s_.tls) {
      start_tls(a);
      return;
    }
    after_connect(a);
  }

  void after_connect(Attempt* a) {
    if (s_.secure) {
      start_handshake(a);
      return;
    }
    send_chunk_data(a);
  }

  void start_tls(Attempt* a) {
    a->phase = Attempt::Phase::Tls;
    arm(a, s_.send_timeout);
    a->tls = std::make_unique<TlsSession>(*s_.tls, a->server->host);
    read_responses(a);
    drive_tls(a);
  }

  void drive_tls(Attempt* a) {
    std::string error;
    const TlsSession::Status st = a->tls->handshake(a->tls_queued, error);
    flush_tls(a);
    if (st == TlsSession::Status::Failed) {
      fail(a, error, true);
    } else if (st == TlsSession::Status::Done && decrypt(a)) {
      after_connect(a);
    }
  }

  // What came in over TLS, into a->resp; false when the attempt failed.
  bool decrypt(Attempt* a) {
    std::string error;
    if (a->tls->decrypt(a->resp, error) != TlsSession::Status::Failed) return true;
    fail(a, error, a->phase != Attempt::Phase::Ack);
    return false;
  }

  // Frame bytes to the server: written as they are, or encrypted into the TLS queue.
  void write_frame(Attempt* a, uv_write_t* req, uv_buf_t* bufs, unsigned count, uv_write_cb done) {
    if (!a->tls) {
      int rc = uv_write(req, reinterpret_cast<uv_stream_t*>(&a->tcp), bufs, count, done);
      if (rc != 0) fail(a, std::string("write failed: ") + uv_strerror(rc), a->phase != Attempt::Phase::Write);
      return;
    }
    std::string error;
    for (unsigned i = 0; i < count; ++i)
      if (!a->tls->encrypt(std::string_view(bufs[i].base, bufs[i].len), a->tls_queued, error)) {
        fail(a, error, true);
        return;
      }
    if (a->phase == Attempt::Phase::Write) a->tls_chunk_queued = true;
    flush_tls(a);
  }

  void flush_tls(Attempt* a) {
    if (!a->tls_writing.empty() || a->tls_queued.empty() || a->done) return;
    a->tls_writing.swap(a->tls_queued);
    uv_buf_t buf = uv_buf_init(a->tls_writing.data(), unsigned(a->tls_writing.size()));
    int rc = uv_write(&a->tls_req, reinterpret_cast<uv_stream_t*>(&a->tcp), &buf, 1, [](uv_write_t* w, int status) {
      auto* a = static_cast<Attempt*>(w->data);
      if (a->done) return;
      if (status != 0) {
        a->owner->fail(a, std::string("write failed: ") + uv_strerror(status), a->phase != Attempt::Phase::Write);
        return;
      }
      a->tls_writing.clear();
      if (!a->tls_queued.empty()) {
        a->owner->flush_tls(a);
      } else if (a->tls_chunk_queued) {
        a->tls_chunk_queued = false;
        a->owner->on_written(a);
      }
    });
    if (rc != 0) fail(a, std::string("write failed: ") + uv_strerror(rc), a->phase != Attempt::Phase::Write);
  }

  // <security>: HELO from the server, PING from us, PONG from the server; then the chunk.
  void start_handshake(Attempt* a) {
    a->phase = Attempt::Phase::Handshake;
    arm(a, s_.send_timeout);
    a->handshake = std::make_unique<forward::ClientHandshake>(a->server->credentials);
    read_responses(a);
    if (!a->resp.empty()) on_handshake_bytes(a);  // HELO in TLS's last flight
  }

  // Reads what the server says into a->resp: TLS's handshake, the forward handshake's messages,
  // then the ack.
  void read_responses(Attempt* a) {
    if (a->reading) return;
    a->reading = true;
    uv_read_start(reinterpret_cast<uv_stream_t*>(&a->tcp),
                  [](uv_handle_t* h, size_t, uv_buf_t* b) {
                    auto* a = static_cast<Attempt*>(h->data);
                    *b = uv_buf_init(a->rbuf, sizeof a->rbuf);
                  },
                  [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
                    auto* a = static_cast<Attempt*>(s->data);
                    if (a->done) return;
                    if (n < 0) a->owner->on_read_error(a, int(n));
                    else a->owner->on_bytes(a, b->base, size_t(n));
                  });
  }

  void on_read_error(Attempt* a, int n) {
    if (a->phase == Attempt::Phase::Idle) {  // the server closed a kept connection: fine
      finish_attempt(a);
      return;
    }
    const bool tls = a->phase == Attempt::Phase::Tls;
    const bool handshake = tls || a->phase == Attempt::Phase::Handshake;
    const char* where = tls ? "the TLS handshake" : handshake ? "the handshake" : "the ack";
    fail(a, n != UV_EOF ? std::string("reading ") + where + ": " + uv_strerror(n)
                        : std::string(handshake ? "connection closed in " : "connection closed before ") + where,
         handshake);
  }

  void on_bytes(Attempt* a, const char* data, size_t n) {
    if (a->tls) {
      a->tls->received(data, n);
      if (a->phase == Attempt::Phase::Tls) {
        drive_tls(a);
        return;
      }
      if (!decrypt(a)) return;
    } else {
      a->resp.append(data, n);
    }
    if (a->phase == Attempt::Phase::Handshake) on_handshake_bytes(a);
    else if (a->phase == Attempt::Phase::Ack) on_ack_bytes(a);
    else if (a->phase == Attempt::Phase::Idle && !a->resp.empty()) finish_attempt(a);  // unasked-for bytes
  }

  // The length of the first complete message in a->resp; 0 while more is needed, or when it
  // cannot be one (the attempt has then failed).
  uint64_t response_length(Attempt* a, const char* what, bool connection_level) {
    static const forward::Limits limits{64 << 10, 0, 8};
    forward::FrameScanner scanner(limits);
    uint64_t len = 0;
    std::string err;
    auto st = scanner.scan(a->resp, len, err);
    if (st == forward::FrameScanner::Status::Complete) return len;
    if (st == forward::FrameScanner::Status::Error)
      fail(a, std::string("invalid ") + what + ": " + err, connection_level);
    return 0;
  }

  void on_handshake_bytes(Attempt* a) {
    while (!a->done && a->phase == Attempt::Phase::Handshake) {
      uint64_t len = response_length(a, "handshake message", true);
      if (len == 0) return;
      std::string err;
      std::string frame = a->resp.substr(0, size_t(len));
      a->resp.erase(0, size_t(len));
      if (!a->helo_seen) {
        a->helo_seen = true;
        if (!a->handshake->on_helo(frame, a->ping, err)) {
          fail(a, err, true);
          return;
        }
        uv_buf_t buf = uv_buf_init(a->ping.data(), unsigned(a->ping.size()));
        write_frame(a, &a->ping_req, &buf, 1, [](uv_write_t* w, int status) {
          auto* a = static_cast<Attempt*>(w->data);
          if (!a->done && status != 0) a->owner->fail(a, std::string("writing PING: ") + uv_strerror(status), true);
        });
        continue;
      }
      if (!a->handshake->on_pong(frame, err)) {
        fail(a, err, true);
        return;
      }
      uv_read_stop(reinterpret_cast<uv_stream_t*>(&a->tcp));
      a->reading = false;
      a->resp.clear();
      send_chunk_data(a);
    }
  }

  void send_chunk_data(Attempt* a) {
    Job& job = *a->job;
    a->phase = Attempt::Phase::Write;
    arm(a, s_.send_timeout);
    uv_buf_t bufs[3] = {
        uv_buf_init(job.head.data(), unsigned(job.head.size())),
        uv_buf_init(const_cast<char*>(job.entries.data()), unsigned(job.entries.size())),
        uv_buf_init(job.options.data(), unsigned(job.options.size())),
    };
    bump(m_sends_);
    bump(m_wire_bytes_, job.head.size() + job.entries.size() + job.options.size());
    write_frame(a, &a->wreq, bufs, 3, [](uv_write_t* w, int status) {
      auto* a = static_cast<Attempt*>(w->data);
      if (a->done) return;
      if (status != 0) {
        a->owner->fail(a, std::string("write failed: ") + uv_strerror(status), false);
        return;
      }
      a->owner->on_written(a);
    });
  }

  void on_written(Attempt* a) {
    if (!s_.require_ack) {
      mark_up(a->server);
      auto job = a->job;
      release(a);
      finish_job(job, true, "");
      return;
    }
    a->phase = Attempt::Phase::Ack;
    arm(a, s_.ack_timeout);
    read_responses(a);
    if (!a->resp.empty()) on_ack_bytes(a);  // read over TLS while the chunk was written
  }

  void on_ack_bytes(Attempt* a) {
    uint64_t len = response_length(a, "ack response", false);
    if (len == 0) return;
    std::string error;
    if (!check_ack(std::string_view(a->resp.data(), size_t(len)), a->job->chunk_id, error)) {
      fail(a, error, false);
      return;
    }
    bump(m_acks_);
    mark_up(a->server);
    a->resp.erase(0, size_t(len));
    auto job = a->job;
    release(a);
    finish_job(job, true, "");
  }

  // keepalive: a connection whose chunk went through waits for the next chunk to its server
  // (at most kIdlePerServer of them, and keepalive_timeout long when set); otherwise it closes.
  static constexpr size_t kIdlePerServer = 4;
  void release(Attempt* a) {
    std::vector<Attempt*>& pool = idle_[a->server];
    if (!s_.keepalive || closing_ || !a->resp.empty() || pool.size() >= kIdlePerServer) {
      finish_attempt(a);
      return;
    }
    a->job.reset();
    a->phase = Attempt::Phase::Idle;
    a->reused = true;
    uv_timer_stop(&a->timer);
    if (s_.keepalive_timeout > 0) arm(a, s_.keepalive_timeout);
    read_responses(a);
    pool.push_back(a);
  }

  Attempt* take_idle(Server* sv) {
    auto it = idle_.find(sv);
    if (it == idle_.end() || it->second.empty()) return nullptr;
    Attempt* a = it->second.back();
    it->second.pop_back();
    return a;
  }

  // Any failure marks the server down for a while (Fluentd: "no response from node. regard it as
  // unavailable"); `connection_level` says whether the data can have reached it.
  void fail(Attempt* a, const std::string& why, bool connection_level) {
    if (a->done) return;
    Server* sv = a->server;
    auto job = a->job;
    const bool stale = a->reused && !a->timed_out;
    finish_attempt(a);
    if (!job) {
      if (a->phase != Attempt::Phase::Idle) heartbeat_result(sv, false, why);
      return;
    }
    if (stale) {
      // A kept connection the server had closed meanwhile: not the server's fault. Once more
      // on a new connection (the chunk, if it arrived, is sent again: at least once).
      log::debug("output " + id_ + ": " + sv->describe() + ": kept connection failed (" + why + "); reconnecting");
      start_attempt(job, sv);
      return;
    }
    std::string reason = sv->describe() + ": " + why;
    log::warn("output " + id_ + ": " + reason +
              (job->next < job->order.size() ? "; trying the next server" : ""));
    (void)connection_level;
    mark_down(sv, why);
    job->reasons += (job->reasons.empty() ? "" : "; ") + reason;
    try_next(job);
  }

  void finish_attempt(Attempt* a) {
    if (a->done) return;
    a->done = true;
    attempts_.erase(a);
    if (a->phase == Attempt::Phase::Idle) {
      std::vector<Attempt*>& pool = idle_[a->server];
      pool.erase(std::remove(pool.begin(), pool.end(), a), pool.end());
    }
    uv_timer_stop(&a->timer);
    if (a->phase == Attempt::Phase::Resolve) uv_cancel(reinterpret_cast<uv_req_t*>(&a->gai));
    // A handle already closed by the worker's final sweep never calls back: the attempt is
    // then left to the process exit.
    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&a->timer)))
      uv_close(reinterpret_cast<uv_handle_t*>(&a->timer), [](uv_handle_t* h) {
        auto* a = static_cast<Attempt*>(h->data);
        a->owner->unref(a);
      });
    if (a->tls && a->connected) send_close_notify(reinterpret_cast<uv_stream_t*>(&a->tcp), *a->tls);
    if (a->tcp_open && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&a->tcp)))
      uv_close(reinterpret_cast<uv_handle_t*>(&a->tcp), [](uv_handle_t* h) {
        auto* a = static_cast<Attempt*>(h->data);
        a->owner->unref(a);
      });
  }

  // Attempts outlive the output only as long as their handles take to close.
  static void unref(Attempt* a) {
    if (--a->refs == 0) delete a;
  }

  void abort_all(const std::string& why) {
    closing_aborted_ = true;
    for (Attempt* a : std::vector<Attempt*>(attempts_.begin(), attempts_.end())) {
      auto job = a->job;
      finish_attempt(a);
      if (job && *alive_) finish_job(job, false, why);
    }
  }

  void mark_down(Server* sv, const std::string& why) {
    sv->down_until = now() + std::max(1.0, s_.heartbeat ? s_.heartbeat_interval : s_.recover_wait);
    if (sv->available) {
      sv->available = false;
      log::warn("output " + id_ + ": detached forwarding server '" + sv->describe() + "' (" + why + ")");
    }
  }

  void mark_up(Server* sv) {
    sv->down_until = 0;
    if (!sv->available) {
      sv->available = true;
      log::warn("output " + id_ + ": recovered forwarding server '" + sv->describe() + "'");
    }
  }

  void heartbeat() {
    if (closing_) return;
    for (auto& sv : s_.servers) {
      if (sv.probing) continue;
      sv.probing = true;
      start_attempt(nullptr, &sv);
    }
  }

  void heartbeat_result(Server* sv, bool ok, const std::string& why) {
    sv->probing = false;
    if (ok) mark_up(sv);
    else mark_down(sv, why);
  }

  uv_loop_t* loop_;
  std::string id_;
  bool dry_run_;
  Settings s_;
  std::mt19937_64 rng_;
  std::shared_ptr<bool> alive_;
  std::unique_ptr<buffer::Buffer> buffer_;
  std::map<uint64_t, std::string> chunk_ids_;
  std::set<Job*> jobs_;
  std::set<Attempt*> attempts_;
  std::map<Server*, std::vector<Attempt*>> idle_;  // keepalive connections between chunks
  uv_timer_t* hb_timer_ = nullptr;
  bool closing_ = false;
  bool closing_aborted_ = false;

  Counter& m_records_;
  Counter& m_bytes_;
  Counter& m_wire_bytes_;
  Counter& m_sends_;
  Counter& m_send_failures_;
  Counter& m_acks_;
  Counter& m_refused_;
};

}  // namespace

std::unique_ptr<Output> make_forward_output(PluginContext& ctx, Settings s, buffer::Config bc) {
  return std::make_unique<ForwardOutput>(ctx, std::move(s), std::move(bc));
}

}  // namespace forward_out

}  // namespace sluice
