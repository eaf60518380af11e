// `<match> @type s3`: fluent-plugin-s3's out_s3. Records are formatted (`<format>`, out_file by
// default) into buffer chunks at write() time; each chunk becomes one object, PUT with AWS SigV4
// after HEADs that find a free %{index} (check_object), compressed as store_as says. Failures are
// retried from the buffer, as Fluentd retries a write that raised (see README.md).
#include <openssl/rand.h>

#include <ctime>
#include <memory>

#include "buffer/buffer.h"
#include "core/log.h"
#include "core/registry.h"
#include "format/line_format.h"
#include "format/record_inject.h"
#include "http/aws_credentials.h"
#include "http/aws_sigv4.h"
#include "http/buffered_sender.h"
#include "http/http_client.h"
#include "s3_body.h"
#include "s3_config.h"
#include "s3_object_key.h"
#include "s3_response.h"

namespace sluice {

namespace {

using s3::Settings;

std::string random_hex(size_t bytes) {
  unsigned char raw[32];
  if (RAND_bytes(raw, int(bytes)) != 1)
    for (size_t i = 0; i < bytes; ++i) raw[i] = static_cast<unsigned char>(rand());
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes; ++i) {
    out.push_back(digits[raw[i] >> 4]);
    out.push_back(digits[raw[i] & 15]);
  }
  return out;
}

// SecureRandom.uuid: a version 4 UUID.
std::string uuid_v4() {
  std::string h = random_hex(16);
  h[12] = '4';
  h[16] = "89ab"[h[16] % 4];
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
         h.substr(20);
}

class S3Output : public Output {
 public:
  S3Output(PluginContext& ctx, s3::OutputConfig config)
      : loop_(ctx.loop),
        id_(ctx.id),
        dry_run_(ctx.dry_run),
        s_(std::move(config.settings)),
        keys_(std::move(config.key)),
        format_(std::move(config.format)),
        inject_(std::move(config.inject)),
        sender_(ctx, std::move(config.buffer), hooks()) {
    m_records_ = &ctx.counter("sluice_output_records_total");
    m_bytes_ = &ctx.counter("sluice_output_bytes_total");
    m_wire_bytes_ = &ctx.counter("sluice_output_wire_bytes_total");
    m_objects_ = &ctx.counter("sluice_s3_objects_total");
    m_request_failures_ = &ctx.counter("sluice_s3_request_failures_total");
    m_refused_ = &ctx.counter("sluice_output_refused_records_total");
    credentials_ = std::make_unique<http::aws::AwsCredentialsProvider>(loop_, s_.credentials);
  }

  void start() override {
    if (dry_run_) return;
    http::HttpClient::Options o;
    o.max_concurrent = size_t(buffer().config().flush_thread_count) + 1;
    o.pool_size = o.max_concurrent;
    o.user_agent = std::string("sluice/") + SLUICE_VERSION;
    sender_.start_client(o);
    log::info("output " + id_ + ": s3://" + s_.bucket + " at " + s_.bucket_url +
              ", signing with AWS credentials from " + credentials_->source());
    if (!s_.check_apikey_on_start && !s_.check_bucket) {
      sender_.ready();
      return;
    }
    // out_s3.rb's start: check_apikeys, then ensure_bucket; Fluentd does not start while they
    // fail. Here the sources wait and the checks are tried again.
    sender_.hold_sources();
    start_checks();
  }

  void write(const Batch& batch) override {
    if (batch.records.empty()) return;
    if (buffer().refuses(batch.records.size(), *m_refused_)) return;
    // out_s3.rb's format: inject_values_to_record, then the formatter.
    const Batch& records = inject_.active() ? inject_.apply(batch) : batch;
    for (const Record& r : records.records) {
      std::string& out = buffer().begin_record(batch.tag, r.time, {}, batch.claim);
      format_.append(out, batch.tag, records, r);
      buffer().end_record();
    }
    buffer().batch_done();
  }

  void close(std::function<void()> done) override {
    closing_ = true;
    sender_.close(std::move(done));
  }

 private:
  buffer::Buffer::Hooks hooks() {
    buffer::Buffer::Hooks h;
    h.send = [this](buffer::Chunk& c, buffer::SendDone done) { send_chunk(c, std::move(done)); };
    h.give_up = [this](const buffer::Chunk& c, const std::string& why) { give_up(c, why); };
    return h;
  }
  buffer::Buffer& buffer() { return sender_.buffer(); }

  // One attempt at storing a chunk.
  struct Job {
    buffer::Chunk* chunk;
    buffer::SendDone done;
    s3::ChunkKeyInput key_input;
    std::string chunk_id, uuid;
    int index = 0;  // out_s3.rb's `i`: the next %{index} to try
    std::string key, previous_key;
    s3::Body body;
  };

  // ---- requests ----

  std::string object_url(const std::string& key) const {
    return s_.bucket_url + "/" + http::aws::uri_encode(key, true);
  }

  http::HttpRequest request(const char* method, std::string url) const {
    http::HttpRequest r;
    r.method = method;
    r.url = std::move(url);
    r.tls = s_.tls;
    r.proxy = s_.proxy;
    r.timeout_ms = 60000;
    r.max_response_bytes = 64u << 10;  // error documents and listings of one key
    return r;
  }

  // Signs `req` (whose body bytes are `payload`, of SHA-256 `payload_hash` when known) and sends it.
  void send(http::HttpRequest req, std::string_view payload, std::string_view payload_hash,
            http::ResponseCallback done) {
    http::aws::SignOptions o{s_.region, "s3", true};
    o.s3 = true;
    o.payload_hash = payload_hash;
    credentials_->send_signed(sender_.client(), std::move(req), payload, o, std::move(done));
  }

  // ---- start checks ----

  void start_checks() {
    if (closing_) return;
    if (!s_.check_apikey_on_start) return check_bucket();
    // check_apikeys: bucket.objects(prefix: path, max_keys: 1).first, a ListObjectsV2.
    auto req = request(
        "GET", s_.bucket_url + "/?list-type=2&max-keys=1&prefix=" + http::aws::uri_encode(s_.path, false));
    std::weak_ptr<bool> alive = sender_.alive();
    send(std::move(req), "", "", [this, alive](http::HttpResponse r) {
      if (!alive.lock() || closing_) return;
      // NoSuchBucket is left to ensure_bucket, as the plugin does.
      if (r.ok() || s3::error_code(r) == "NoSuchBucket") return check_bucket();
      checks_failed("can't call S3 API. Please check your credentials or s3_region configuration. error = " +
                    s3::describe(r));
    });
  }

  void check_bucket() {
    if (!s_.check_bucket) return checks_passed();
    std::weak_ptr<bool> alive = sender_.alive();
    send(request("HEAD", s_.bucket_url), "", "", [this, alive](http::HttpResponse r) {
      if (!alive.lock() || closing_) return;
      // The SDK's bucket_exists waiter takes 301 and 403 for "exists" too.
      if (r.ok() || (r.error.empty() && (r.status == 301 || r.status == 403))) return checks_passed();
      if (!r.error.empty() || r.status != 404) return checks_failed("HEAD bucket: " + s3::describe(r));
      if (!s_.auto_create_bucket)
        return checks_failed("The specified bucket does not exist: bucket = " + s_.bucket);
      create_bucket();
    });
  }

  void create_bucket() {
    log::info("Creating bucket " + s_.bucket + " on " + s_.bucket_url);
    auto req = request("PUT", s_.bucket_url);
    // The SDK's create_bucket puts the client's region as LocationConstraint, except us-east-1.
    if (s_.region != "us-east-1") {
      req.body =
          "<CreateBucketConfiguration "
          "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>" +
          s_.region + "</LocationConstraint></CreateBucketConfiguration>";
      req.headers.emplace_back("Content-Type", "application/xml");
    } else {
      req.headers.emplace_back("Content-Length", "0");
    }
    std::weak_ptr<bool> alive = sender_.alive();
    send(std::move(req), "", "", [this, alive](http::HttpResponse r) {
      if (!alive.lock() || closing_) return;
      const std::string code = s3::error_code(r);
      if (r.ok() || code == "BucketAlreadyOwnedByYou") return checks_passed();
      checks_failed("CreateBucket " + s_.bucket + ": " + s3::describe(r));
    });
  }

  void checks_failed(const std::string& why) {
    const double wait = std::min(60.0, double(1 << std::min(check_attempts_++, 6)));
    log::error("output " + id_ + ": " + why + "; sources wait; trying again in " + std::to_string(int(wait)) +
               "s");
    sender_.retry_in(wait, [this] { start_checks(); });
  }

  void checks_passed() {
    if (check_attempts_ > 0) log::info("output " + id_ + ": s3://" + s_.bucket + " is reachable");
    sender_.ready();
  }

  // ---- chunks ----

  void send_chunk(buffer::Chunk& c, buffer::SendDone done) {
    auto job = std::make_shared<Job>();
    job->chunk = &c;
    job->done = std::move(done);
    // Fluentd's 16-byte unique_id: the same on every retry of a chunk, unlike any other chunk's.
    job->chunk_id = http::aws::hex_sha256(chunk_id_salt_ + std::to_string(c.id)).substr(0, 32);
    job->key_input.tag = c.tag;
    job->key_input.timekey = c.timekey;
    job->key_input.chunk_id = job->chunk_id;
    job->key_input.now = time(nullptr);
    next_key(job);
  }

  // out_s3.rb's write: with check_object, keys with %{index} 0, 1, 2... until a HEAD finds none.
  void next_key(const std::shared_ptr<Job>& job) {
    if (keys_.uses_uuid_flush()) {
      job->uuid = uuid_v4();
      job->key_input.uuid = job->uuid;
    }
    std::string error;
    if (!keys_.key(job->key_input, job->index, job->key, error))
      return finish(job, buffer::SendResult::retry(error));
    if (!s_.check_object) return compress(job);
    if (job->index > 0 && job->key == job->previous_key) {
      if (!s_.overwrite)
        return finish(job, buffer::SendResult::retry(
                               "duplicated path is generated. use %{index} in s3_object_key_format: path = " +
                               job->key));
      log::warn(job->key + " already exists, but will overwrite");
      return compress(job);
    }
    if (job->index >= kMaxIndex)
      return finish(job, buffer::SendResult::retry("no free object key after " + std::to_string(kMaxIndex) +
                                                   " tries (last: " + job->key + ")"));
    ++job->index;
    job->previous_key = job->key;
    std::weak_ptr<bool> alive = sender_.alive();
    send(request("HEAD", object_url(job->key)), "", "", [this, alive, job](http::HttpResponse r) {
      if (!alive.lock()) return;
      if (r.ok()) return next_key(job);
      if (r.error.empty() && r.status == 404) return compress(job);
      bump(*m_request_failures_);
      finish(job,
             buffer::SendResult::retry("HEAD s3://" + s_.bucket + "/" + job->key + ": " + s3::describe(r)));
    });
  }

  void compress(const std::shared_ptr<Job>& job) {
    s3::make_body(loop_, s_.store, s_.zstd_level, job->chunk->payload, sender_.alive_flag(), [this, job](s3::Body body) {
      if (!body.error.empty()) return finish(job, buffer::SendResult::retry(body.error));
      job->body = std::move(body);
      put(job);
    });
  }

  void put(const std::shared_ptr<Job>& job) {
    auto req = request("PUT", object_url(job->key));
    req.headers.emplace_back("Content-Type", s_.content_type);
    for (auto& h : s_.put_headers) req.headers.push_back(h);
    // s3_metadata: placeholders, then %{index} of the key chosen (out_s3.rb's `i - 1`).
    for (auto& [name, value] : s_.metadata) {
      std::string extracted, error;
      if (!keys_.extract_placeholders(value, job->key_input, extracted, error))
        return finish(job, buffer::SendResult::retry(error));
      const std::string index = keys_.index_text(s_.check_object ? job->index - 1 : -1);
      for (size_t at = extracted.find("%{index}"); at != std::string::npos;
           at = extracted.find("%{index}", at + index.size()))
        extracted.replace(at, 8, index);
      req.headers.emplace_back(name, extracted);
    }
    const std::string& payload = job->chunk->payload;
    // No copy: the chunk (or the job's compressed body) stays alive until the response has run.
    req.body_view =
        job->body.compressed.empty() ? std::string_view(payload) : std::string_view(job->body.compressed);
    if (req.body_view.empty()) req.headers.emplace_back("Content-Length", "0");
    const std::string_view body = req.body_view;
    bump(*m_wire_bytes_, body.size());
    if (log::enabled(log::Level::Debug))
      log::debug("out_s3: write chunk " + job->chunk_id + " to s3://" + s_.bucket + "/" + job->key);
    std::weak_ptr<bool> alive = sender_.alive();
    send(std::move(req), body, job->body.sha256, [this, alive, job](http::HttpResponse r) {
      if (!alive.lock()) return;
      if (!r.ok()) {
        bump(*m_request_failures_);
        return finish(job, buffer::SendResult::retry("PUT s3://" + s_.bucket + "/" + job->key + ": " +
                                                     s3::describe(r)));
      }
      bump(*m_objects_);
      bump(*m_records_, job->chunk->records);
      bump(*m_bytes_, job->chunk->payload.size());
      if (s_.warn_for_delay > 0 && keys_.options().key_time &&
          double(job->chunk->timekey) < double(time(nullptr)) - s_.warn_for_delay)
        log::warn("out_s3: delayed events were put to s3://" + s_.bucket + "/" + job->key);
      finish(job, buffer::SendResult::success());
    });
  }

  void finish(const std::shared_ptr<Job>& job, buffer::SendResult result) {
    auto done = std::move(job->done);
    job->body = {};
    done(std::move(result));
  }

  void give_up(const buffer::Chunk& c, const std::string& why) {
    log::error("output " + id_ + ": gave up on a chunk of " + std::to_string(c.records) + " records" +
               (c.tag.empty() ? "" : " (tag " + c.tag + ")") + ": " + why +
               "; add a <secondary> (e.g. @type secondary_file) to keep such chunks");
  }

  static constexpr int kMaxIndex = 100000;

  uv_loop_t* loop_;
  std::string id_;
  bool dry_run_;
  Settings s_;
  s3::ObjectKeyFormat keys_;
  LineFormat format_;
  RecordInjector inject_;
  std::unique_ptr<http::aws::AwsCredentialsProvider> credentials_;
  const std::string chunk_id_salt_ = random_hex(16);
  int check_attempts_ = 0;
  bool closing_ = false;

  Counter* m_records_;
  Counter* m_bytes_;
  Counter* m_wire_bytes_;
  Counter* m_objects_;
  Counter* m_request_failures_;
  Counter* m_refused_;
  // Last: destroyed first, before what its buffer's hooks use.
  http::BufferedSender sender_;
};

std::unique_ptr<Output> build(PluginContext& ctx, const Params& p) {
  return std::make_unique<S3Output>(ctx, s3::parse_config(ctx, p));
}

}  // namespace

void register_out_s3(Registry& registry) { registry.add_output(s3::plugin_spec(), build); }

}  // namespace sluice
