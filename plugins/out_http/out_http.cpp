// `<match> @type http`: Fluentd 1.18's out_http (lib/fluent/plugin/out_http.rb). Records are
// formatted by `<format>` into buffer chunks at write() time; each chunk goes in one request
// (see README.md).
#include <memory>

#include "buffer/buffer.h"
#include "core/log.h"
#include "core/registry.h"
#include "http/aws_credentials.h"
#include "http/buffered_sender.h"
#include "http/http_client.h"
#include "http_request.h"
#include "http_settings.h"

namespace sluice {

namespace {

using http_out::ChunkKeys;
using http_out::OutputConfig;

class HttpOutput : public Output {
 public:
  HttpOutput(PluginContext& ctx, OutputConfig c)
      : loop_(ctx.loop),
        id_(ctx.id),
        dry_run_(ctx.dry_run),
        s_(std::move(c.settings)),
        format_(std::move(c.format)),
        record_keys_(std::move(c.record_keys)),
        keys_(c.buffer),
        sender_(ctx, std::move(c.buffer), hooks()) {
    m_records_ = &ctx.counter("sluice_output_records_total");
    m_bytes_ = &ctx.counter("sluice_output_bytes_total");
    m_wire_bytes_ = &ctx.counter("sluice_output_wire_bytes_total");
    m_requests_ = &ctx.counter("sluice_http_requests_total");
    m_error_responses_ = &ctx.counter("sluice_http_error_responses_total");
    m_refused_ = &ctx.counter("sluice_output_refused_records_total");
  }

  void start() override {
    if (dry_run_) return;
    sender_.start_client(http::HttpClient::Options::for_output(buffer().config().flush_thread_count));
    if (s_.aws_sigv4) {
      http::aws::CredentialsConfig cc;
      cc.region = s_.aws_region;
      credentials_ = std::make_unique<http::aws::AwsCredentialsProvider>(loop_, cc);
      log::info("output " + id_ + ": signing requests (aws_sigv4, " + s_.aws_service + " in " + s_.aws_region +
                ") with " + credentials_->source());
    }
    buffer().start();
  }

  void write(const Batch& batch) override {
    if (batch.records.empty()) return;
    if (buffer().refuses(batch.records.size(), *m_refused_)) return;
    for (const Record& r : batch.records) {
      variant_.clear();
      for (const RecordPath& key : record_keys_) {
        scratch_.clear();
        key.append_to_s(scratch_, batch.find(r, key.top()));
        http_out::append_key_value(variant_, scratch_);
      }
      std::string& out = buffer().begin_record(batch.tag, r.time, variant_, batch.claim);
      format_.append(out, batch.tag, batch, r);
      if (s_.json_array) out.push_back(',');  // out_http.rb's format_json_array
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
    h.send = [this](buffer::Chunk& chunk, buffer::SendDone done) { send_chunk(chunk, std::move(done)); };
    return h;
  }
  buffer::Buffer& buffer() { return sender_.buffer(); }

  void send_chunk(buffer::Chunk& c, buffer::SendDone done) {
    http::HttpRequest req;
    bool unrecoverable = false;
    if (std::string problem = http_out::build_request(s_, keys_, c, req, unrecoverable); !problem.empty()) {
      done(unrecoverable ? buffer::SendResult::unrecoverable(problem) : buffer::SendResult::retry(problem));
      return;
    }
    const std::string url = http_out::loggable_url(req.url);
    if (log::enabled(log::Level::Debug)) {
      char id[24];
      snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(c.id));
      log::debug("output " + id_ + ": " + req.method + " data to " + url + " with chunk(" + id + ")");
    }
    bump(*m_requests_);
    bump(*m_wire_bytes_, req.body_view.empty() ? req.body.size() : req.body_view.size());
    std::weak_ptr<bool> alive = sender_.alive();
    const uint64_t records = c.records, bytes = c.payload.size();
    // The chunk stays in flight (alive, unchanged) until `done`: body_view may refer to it.
    auto on_response = [this, alive, url, records, bytes, done = std::move(done)](http::HttpResponse r) {
      auto a = alive.lock();
      if (!a || !*a) return;
      std::string logged_error;
      buffer::SendResult result = http_out::classify_response(s_, r, logged_error);
      if (!r.error.empty()) result.reason = "could not " + s_.method + " to " + url + ": " + r.error;
      if (r.error.empty() && (r.status < 200 || r.status >= 300)) bump(*m_error_responses_);
      if (!logged_error.empty())
        log::error("output " + id_ + ": got error response from '" + s_.method + " " + url + "' : " +
                   logged_error + " (the chunk of " + std::to_string(records) +
                   " records is dropped: error_response_as_unrecoverable false)");
      if (result.status == buffer::SendStatus::Success && logged_error.empty()) {
        bump(*m_records_, records);
        bump(*m_bytes_, bytes);
      }
      done(std::move(result));
    };
    if (credentials_) {
      // out_http.rb's set_auth signs last, over the body as sent (gzipped when compressed).
      http::aws::SignOptions o{s_.aws_region, s_.aws_service, true};
      const std::string_view payload = req.body_view;
      credentials_->send_signed(sender_.client(), std::move(req), payload, o, std::move(on_response));
    } else {
      sender_.client().send(std::move(req), std::move(on_response));
    }
  }

  uv_loop_t* loop_;
  std::string id_;
  bool dry_run_;
  http_out::Settings s_;
  LineFormat format_;
  std::vector<RecordPath> record_keys_;
  ChunkKeys keys_;
  std::unique_ptr<http::aws::AwsCredentialsProvider> credentials_;  // <auth> method aws_sigv4
  std::string variant_, scratch_;

  Counter* m_records_;
  Counter* m_bytes_;
  Counter* m_wire_bytes_;
  Counter* m_requests_;
  Counter* m_error_responses_;
  Counter* m_refused_;
  // Last: destroyed first, before what its buffer's hooks use.
  http::BufferedSender sender_;
};

std::unique_ptr<Output> make_output(PluginContext& ctx, const Params& p) {
  return std::make_unique<HttpOutput>(ctx, http_out::parse_config(ctx, p));
}

}  // namespace

void register_out_http(Registry& registry) { registry.add_output(http_out::plugin_spec(), make_output); }

}  // namespace sluice
