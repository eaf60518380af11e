// `<match> @type loki`: fluent-plugin-grafana-loki's pushes (out_loki.rb): records formatted into
// buffer chunks at write() time (loki_format.h), one POST /loki/api/v1/push per chunk over
// libcurl on the loop; 429 and 5xx retried with <buffer>, other answers not (see README.md).
#include <memory>
#include <vector>

#include "buffer/buffer.h"
#include "core/log.h"
#include "core/registry.h"
#include "format/tag_placeholders.h"
#include "http/buffered_sender.h"
#include "http/http_client.h"
#include "loki_config.h"
#include "loki_format.h"

namespace sluice {

namespace {

using loki::Settings;

// The URL for messages, without user:password@ should the url carry them.
std::string redacted(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t at = url.find('@');
  const size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (scheme == std::string::npos || at == std::string::npos || (slash != std::string::npos && at > slash))
    return url;
  return url.substr(0, scheme + 3) + url.substr(at + 1);
}

class LokiOutput : public Output {
 public:
  LokiOutput(PluginContext& ctx, Settings settings, loki::FormatConfig fmt, buffer::Config bconf)
      : id_(ctx.id),
        dry_run_(ctx.dry_run),
        s_(std::move(settings)),
        fmt_(std::move(fmt)),
        uri_(redacted(s_.push_url)),
        sender_(ctx, std::move(bconf), hooks()) {
    auto C = [&](const char* n) { return &ctx.counter(n); };
    m_records_ = C("sluice_output_records_total");
    m_bytes_ = C("sluice_output_bytes_total");
    m_wire_bytes_ = C("sluice_output_wire_bytes_total");
    m_requests_ = C("sluice_loki_push_requests_total");
    m_failures_ = C("sluice_loki_push_failures_total");
    m_dropped_ = C("sluice_loki_dropped_records_total");
    m_refused_ = C("sluice_output_refused_records_total");
    slots_.assign(size_t(std::max(1, buffer().config().flush_thread_count)), false);
  }

  void start() override {
    if (dry_run_) return;
    sender_.start_client(http::HttpClient::Options::for_output(int(slots_.size())));
    buffer().start();
  }

  void write(const Batch& batch) override {
    if (batch.records.empty()) return;
    if (buffer().refuses(batch.records.size(), *m_refused_)) return;
    fmt_.begin_batch();
    for (const Record& r : batch.records) {
      std::string& out = buffer().begin_record(batch.tag, r.time, {}, batch.claim);
      fmt_.append(out, batch, r);
      buffer().end_record();
    }
    buffer().batch_done();
  }

  void close(std::function<void()> done) override {
    sender_.close(std::move(done));
  }

 private:
  buffer::Buffer::Hooks hooks() {
    buffer::Buffer::Hooks h;
    h.send = [this](buffer::Chunk& c, buffer::SendDone done) { send_chunk(c, std::move(done)); };
    // The buffer logs why; the plugin logs the body it could not deliver at debug level.
    h.give_up = [this](const buffer::Chunk& c, const std::string&) {
      bump(*m_dropped_, c.records);
      std::string body, error;
      if (log::enabled(log::Level::Debug) && c.resident && loki::build_body(c.payload, {}, body, error))
        log::debug("output " + id_ + ": not delivered: " + log::quote_excerpt(body, 64 << 10));
    };
    // A <secondary> gets the push body (what a user can send to Loki again), not sluice's framing.
    h.secondary_payload = [](const buffer::Chunk& c, std::string& out) {
      std::string error;
      if (loki::build_body(c.payload, {}, out, error)) return true;
      out = error;
      return false;
    };
    return h;
  }
  buffer::Buffer& buffer() { return sender_.buffer(); }

  // Fluentd's flush threads each send one chunk at a time; a chunk's fluentd_thread label names
  // the slot it goes out on, so that concurrent pushes never share a stream.
  size_t take_slot() {
    for (size_t k = 0; k < slots_.size(); ++k)
      if (!slots_[k]) {
        slots_[k] = true;
        return k;
      }
    return 0;
  }

  void send_chunk(buffer::Chunk& c, buffer::SendDone done) {
    std::string thread;
    size_t slot = take_slot();
    if (fmt_.config().thread_label) thread = "flush_thread_" + std::to_string(slot);
    std::string body, error;
    if (!loki::build_body(c.payload, thread, body, error)) {
      slots_[slot] = false;
      done(buffer::SendResult::unrecoverable(error));
      return;
    }
    http::HttpRequest req;
    req.method = "POST";
    req.url = s_.push_url;
    req.timeout_ms = s_.request_timeout_ms;
    req.tls = s_.tls;
    req.max_response_bytes = 1 << 20;  // Loki answers with an empty body or one line
    // out_loki.rb loki_http_request: custom headers first, then its own.
    for (auto& kv : s_.custom_headers) req.headers.push_back(kv);
    req.headers.emplace_back("Content-Type", "application/json");
    if (!s_.bearer_token.empty()) req.bearer_token = s_.bearer_token;
    if (!s_.tenant.empty())
      req.headers.emplace_back("X-Scope-OrgID",
                               s_.tenant_has_tag ? expand_tag_placeholders(s_.tenant, c.tag) : s_.tenant);
    if (!s_.username.empty()) {
      req.user = s_.username;
      req.password = s_.password;
    }
    bump(*m_requests_);
    if (s_.gzip) {
      req.body = http::gzip_compress(body);
      req.headers.emplace_back("Content-Encoding", "gzip");
    } else {
      req.body = std::move(body);
    }
    bump(*m_wire_bytes_, req.body.size());
    const uint64_t records = c.records, bytes = c.payload.size();
    std::weak_ptr<bool> alive = sender_.alive();
    sender_.client().send(std::move(req), [this, alive, slot, records, bytes,
                                   done = std::move(done)](http::HttpResponse r) {
      auto a = alive.lock();
      if (!a || !*a) return;
      slots_[slot] = false;
      done(judge(r, records, bytes));
    });
  }

  // out_loki.rb write: success on 2xx; 429 and 5xx raise (Fluentd retries); anything else is
  // logged and the chunk is not sent again.
  buffer::SendResult judge(const http::HttpResponse& r, uint64_t records, uint64_t bytes) {
    if (!r.error.empty()) {
      bump(*m_failures_);
      return buffer::SendResult::retry("failed to write post to " + uri_ + " (" + r.error + ")");
    }
    if (r.status >= 200 && r.status < 300) {
      bump(*m_records_, records);
      bump(*m_bytes_, bytes);
      return buffer::SendResult::success();
    }
    bump(*m_failures_);
    std::string_view message = r.body;  // Loki's errors are one text line
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.remove_suffix(1);
    const std::string summary = std::to_string(r.status) + " " + log::quote_excerpt(message, 1024);
    const std::string why = "failed to write post to " + uri_ + " (" + summary + ")";
    if (r.status == 429 || (r.status >= 500 && r.status < 600)) return buffer::SendResult::retry(why);
    return buffer::SendResult::unrecoverable(why);
  }

  std::string id_;
  bool dry_run_;
  Settings s_;
  loki::Formatter fmt_;
  std::string uri_;
  std::vector<bool> slots_;

  Counter* m_records_;
  Counter* m_bytes_;
  Counter* m_wire_bytes_;
  Counter* m_requests_;
  Counter* m_failures_;
  Counter* m_dropped_;
  Counter* m_refused_;
  // Last: destroyed first, before what its buffer's hooks use.
  http::BufferedSender sender_;
};

std::unique_ptr<Output> make_output(PluginContext& ctx, const Params& p) {
  loki::OutputConfig c = loki::parse_config(ctx, p);
  return std::make_unique<LokiOutput>(ctx, std::move(c.settings), std::move(c.format),
                                      std::move(c.buffer));
}

}  // namespace

void register_out_loki(Registry& registry) { registry.add_output(loki::plugin_spec(), make_output); }

}  // namespace sluice
