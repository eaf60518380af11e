// `@type kafka2` (aliases `rdkafka2`, `kafka_buffered`): records to Kafka through librdkafka.
//
// librdkafka is the buffer. Each write() formats the batch once into a Group (one byte buffer
// holding every value, key and header of the batch) and produces every message without copying,
// with the message's opaque pointing at its entry in the group. The group retains the batch's
// Claim; delivery reports, served on the event loop (rd_kafka_poll, woken by librdkafka through
// a pipe), count the group down and release the claim when its last message is delivered or
// dead-lettered, so tail positions advance only past delivered records.
//
// When librdkafka's queue is full the rest goes to a local backlog, the sources are held
// (FlowControl), and the backlog is produced as deliveries free room. Failed deliveries are
// re-produced with backoff (the <buffer> retry_* policy) or dead-lettered when Kafka says they
// can never succeed (too large, invalid record). A fatal producer error (e.g. a fenced
// idempotent producer) retires the producer: what it still holds is purged and re-produced on a
// new one.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "core/delivery.h"
#include "core/log.h"
#include "core/registry.h"
#include "kafka_output.h"

namespace sluice {

namespace kafka {

double mono_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

KafkaOutput::KafkaOutput(const PluginContext& ctx, Settings settings, RecordMapper mapper)
    : loop_(ctx.loop),
      metrics_(ctx.metrics),
      flow_(ctx.flow),
      id_(ctx.id),
      label_emitter_(ctx.label_emitter),
      s_(std::move(settings)),
      mapper_(std::move(mapper)) {
  // Validate every property now, so mistakes are config errors with file:line.
  rd_kafka_conf_t* conf = make_conf();
  rd_kafka_conf_destroy(conf);
  if (!s_.discard_delivery_failed_regex.empty()) {
    try {
      discard_re_ = std::regex(s_.discard_delivery_failed_regex);
    } catch (const std::regex_error& e) {
      throw ConfigException(ctx.section ? ctx.section->pos : SourcePos{},
                            "discard_kafka_delivery_failed_regex: " + std::string(e.what()));
    }
  }
  if (metrics_) {
    messages_ = &metric("sluice_kafka_messages_total");
    bytes_ = &metric("sluice_kafka_bytes_total");
    retries_ = &metric("sluice_kafka_retries_total");
    dead_letters_ = &metric("sluice_kafka_dead_letters_total");
    rebuilds_ = &metric("sluice_kafka_producer_rebuilds_total");
    queue_depth_ = &metric("sluice_kafka_queue_depth");
  }
  if (!s_.default_topic.empty()) default_topic_ = intern(s_.default_topic);
  if (ctx.dry_run) return;
  for (auto& n : s_.notes) log::info(id_ + ": " + n);
  if (pipe2(wake_fds_, O_NONBLOCK | O_CLOEXEC) != 0)
    throw ConfigException(ctx.section ? ctx.section->pos : SourcePos{},
                          std::string("kafka: pipe: ") + strerror(errno));
  prod_ = create_producer();
  if (!prod_)
    throw ConfigException(ctx.section ? ctx.section->pos : SourcePos{},
                          "kafka: cannot create the producer: " + create_error_);
}

KafkaOutput::~KafkaOutput() {
  retired_.clear();
  if (prod_) {
    rd_kafka_purge(prod_->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    prod_.reset();
  }
  for (Group* g : groups_) delete g;
  if (wake_fds_[0] >= 0) ::close(wake_fds_[0]);
  if (wake_fds_[1] >= 0) ::close(wake_fds_[1]);
  if (dead_letter_fd_ >= 0) ::close(dead_letter_fd_);
}

void KafkaOutput::start() {
  if (!loop_ || !prod_) return;
  uv_poll_init(loop_, &wake_, wake_fds_[0]);
  wake_.data = this;
  uv_poll_start(&wake_, UV_READABLE, [](uv_poll_t* h, int, int) {
    auto* self = static_cast<KafkaOutput*>(h->data);
    char buf[256];
    while (::read(self->wake_fds_[0], buf, sizeof buf) > 0) {
    }
    self->service();
  });
  uv_timer_init(loop_, &tick_);
  tick_.data = this;
  uv_timer_start(&tick_, [](uv_timer_t* t) { static_cast<KafkaOutput*>(t->data)->service(); }, 100, 100);
  handles_ = true;
  // Deliveries that completed before the loop started.
  rd_kafka_queue_io_event_enable(prod_->main_q, wake_fds_[1], "1", 1);
  service();
}

void KafkaOutput::write(const Batch& batch) {
  if (batch.records.empty()) return;
  auto* g = new Group;
  g->tag.assign(batch.tag);
  g->msgs.reserve(batch.records.size());
  // Room for the values at the last batch's bytes per record plus an eighth (at most twice the
  // last batch's bytes): one allocation instead of a doubling series, its copies and its slack.
  if (last_batch_bytes_)
    g->data.reserve(std::min(batch.records.size() * (last_batch_bytes_ / last_batch_records_) * 9 / 8,
                             2 * last_batch_bytes_ + (64u << 10)));
  uint32_t fixed_topic = UINT32_MAX;
  if (!s_.topic.empty()) fixed_topic = intern(expand_tag(s_.topic, batch.tag));
  for (const Record& r : batch.records) {
    size_t start = g->data.size();
    mapper_.map(batch, r, g->data, meta_);
    size_t len = g->data.size() - start;
    if (s_.max_send_limit_bytes && len > *s_.max_send_limit_bytes) {
      std::string value = g->data.substr(start);
      g->data.resize(start);
      dead_letter(g->tag, topic_name_for(fixed_topic, meta_.topic, batch.tag), meta_.key,
                  value, "record size " + std::to_string(len) + " exceeds max_send_limit_bytes " +
                             std::to_string(*s_.max_send_limit_bytes));
      continue;
    }
    Msg& m = g->msgs.emplace_back();
    m.group = g;
    m.value_off = static_cast<uint32_t>(start);
    m.value_len = static_cast<uint32_t>(len);
    if (meta_.key) {
      m.key_off = static_cast<uint32_t>(g->data.size());
      m.key_len = static_cast<int32_t>(meta_.key->size());
      g->data.append(*meta_.key);
    }
    if (meta_.pkey) {
      m.pkey_off = static_cast<uint32_t>(g->data.size());
      m.pkey_len = static_cast<int32_t>(meta_.pkey->size());
      g->data.append(*meta_.pkey);
    }
    if (meta_.partition) m.partition = *meta_.partition;
    m.topic = fixed_topic != UINT32_MAX ? fixed_topic
              : !meta_.topic.empty()    ? intern(meta_.topic)
              : default_topic_ != UINT32_MAX ? default_topic_
                                             : intern(batch.tag);
    if (!meta_.headers.empty()) {
      m.hdr_first = static_cast<uint32_t>(g->hdrs.size());
      m.hdr_count = static_cast<uint32_t>(meta_.headers.size());
      for (auto& [name, val] : meta_.headers) {
        Hdr h{static_cast<uint32_t>(g->data.size()), static_cast<uint32_t>(name.size()), 0, -1};
        g->data.append(name);
        if (val) {
          h.val_off = static_cast<uint32_t>(g->data.size());
          h.val_len = static_cast<int32_t>(val->size());
          g->data.append(*val);
        }
        g->hdrs.push_back(h);
      }
    }
    if (s_.use_event_time) m.timestamp_ms = r.time.sec * 1000 + r.time.nsec / 1000000;
  }
  last_batch_bytes_ = g->data.size();
  last_batch_records_ = batch.records.size();
  if (g->msgs.empty()) {
    delete g;
    return;
  }
  g->pending = g->msgs.size();
  pending_msgs_ += g->pending;
  groups_.insert(g);
  if (batch.claim) {
    g->claim = batch.claim;
    g->claim->retain();
  }
  for (Msg& m : g->msgs) backlog_.push_back(&m);
  drain();
}

void KafkaOutput::close(std::function<void()> done) {
  closing_ = true;
  close_done_ = std::move(done);
  close_deadline_ = mono_now() + s_.close_timeout;
  for (Msg* m : retry_) m->not_before = 0;
  if (!handles_) {
    finish_close();
    return;
  }
  uv_timer_start(&tick_, [](uv_timer_t* t) { static_cast<KafkaOutput*>(t->data)->service(); }, 10, 10);
  service();
}

Counter& KafkaOutput::metric(const std::string& name) {
  return metrics_->counter(name + "{plugin=\"" + id_ + "\"}");
}

Counter* KafkaOutput::error_counter(const char* family, rd_kafka_resp_err_t err) {
  if (!metrics_) return nullptr;
  auto key = std::make_pair(std::string(family), static_cast<int>(err));
  auto it = error_counters_.find(key);
  if (it != error_counters_.end()) return it->second;
  Counter* c = &metrics_->counter(std::string(family) + "{plugin=\"" + id_ + "\",code=\"" +
                                  rd_kafka_err2name(err) + "\"}");
  error_counters_[key] = c;
  return c;
}

rd_kafka_conf_t* KafkaOutput::make_conf() {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  for (const Property& p : s_.props) {
    if (rd_kafka_conf_set(conf, p.name.c_str(), p.value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      // librdkafka's message may quote the value: keep secrets out of it.
      std::string why = p.secret ? "invalid value for librdkafka property '" + p.name + "'"
                                 : "librdkafka: " + std::string(err);
      throw ConfigException(p.pos, why);
    }
  }
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_dr_msg_cb(conf, &KafkaOutput::on_delivery);
  rd_kafka_conf_set_error_cb(conf, &KafkaOutput::on_error);
  rd_kafka_conf_set_log_cb(conf, &KafkaOutput::on_log);
  rd_kafka_topic_conf_t* tconf = rd_kafka_topic_conf_new();
  rd_kafka_topic_conf_set_partitioner_cb(tconf, &KafkaOutput::partition);
  rd_kafka_topic_conf_set_opaque(tconf, this);
  rd_kafka_conf_set_default_topic_conf(conf, tconf);
  return conf;
}

std::unique_ptr<Producer> KafkaOutput::create_producer() {
  rd_kafka_conf_t* conf = make_conf();
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    create_error_ = err;
    return nullptr;
  }
  auto p = std::make_unique<Producer>();
  p->rk = rk;
  rd_kafka_set_log_queue(rk, nullptr);  // logs to the main queue, served by rd_kafka_poll
  p->main_q = rd_kafka_queue_get_main(rk);
  if (handles_) rd_kafka_queue_io_event_enable(p->main_q, wake_fds_[1], "1", 1);
  return p;
}

// Partition by the partition key when the record has one, else by the message key, with
// ruby-kafka's hash (CRC32, or murmur2). Keyless messages never come here: librdkafka's
// sticky partitioner spreads them.
int32_t KafkaOutput::partition(const rd_kafka_topic_t* rkt, const void* key, size_t keylen,
                               int32_t partition_cnt, void* topic_opaque, void* msg_opaque) {
  auto* self = static_cast<KafkaOutput*>(topic_opaque);
  auto* m = static_cast<Msg*>(msg_opaque);
  if (m && m->pkey_len >= 0) {
    key = m->group->data.data() + m->pkey_off;
    keylen = static_cast<size_t>(m->pkey_len);
  }
  if (self->s_.murmur2)
    return rd_kafka_msg_partitioner_murmur2(rkt, key, keylen, partition_cnt, topic_opaque, msg_opaque);
  return rd_kafka_msg_partitioner_consistent(rkt, key, keylen, partition_cnt, topic_opaque, msg_opaque);
}

uint32_t KafkaOutput::intern(std::string_view name) {
  auto it = topic_ids_.find(std::string(name));
  if (it != topic_ids_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(topics_.size());
  topics_.emplace_back(name);
  topic_ids_.emplace(topics_.back(), id);
  return id;
}

rd_kafka_topic_t* KafkaOutput::topic_handle(Producer& p, uint32_t idx) {
  if (p.rkts.size() <= idx) p.rkts.resize(idx + 1, nullptr);
  if (!p.rkts[idx]) p.rkts[idx] = rd_kafka_topic_new(p.rk, topics_[idx].c_str(), nullptr);
  return p.rkts[idx];
}

std::string KafkaOutput::expand_tag(const std::string& pattern, std::string_view tag) {
  if (pattern.find("${tag") == std::string::npos) return pattern;
  std::vector<std::string_view> parts;
  for (size_t b = 0;;) {
    size_t d = tag.find('.', b);
    parts.push_back(tag.substr(b, d == std::string_view::npos ? std::string_view::npos : d - b));
    if (d == std::string_view::npos) break;
    b = d + 1;
  }
  std::string out;
  for (size_t i = 0; i < pattern.size();) {
    if (pattern.compare(i, 6, "${tag}") == 0) {
      out.append(tag);
      i += 6;
    } else if (pattern.compare(i, 6, "${tag[") == 0) {
      size_t close = pattern.find("]}", i);
      if (close == std::string::npos) {
        out.append(pattern, i, std::string::npos);
        break;
      }
      long n = strtol(pattern.c_str() + i + 6, nullptr, 10);
      if (n < 0) n += static_cast<long>(parts.size());
      if (n >= 0 && n < static_cast<long>(parts.size())) out.append(parts[static_cast<size_t>(n)]);
      i = close + 2;
    } else {
      out.push_back(pattern[i++]);
    }
  }
  return out;
}

std::string KafkaOutput::topic_name_for(uint32_t fixed, std::string_view rec_topic,
                                        std::string_view tag) {
  if (fixed != UINT32_MAX) return topics_[fixed];
  if (!rec_topic.empty()) return std::string(rec_topic);
  if (!s_.default_topic.empty()) return s_.default_topic;
  return std::string(tag);
}

// Hands one message to librdkafka. Returns its error (0: queued).
rd_kafka_resp_err_t KafkaOutput::produce(Msg* m) {
  Group* g = m->group;
  const char* base = g->data.data();
  rd_kafka_headers_t* hdrs = nullptr;
  if (m->hdr_count) {
    hdrs = rd_kafka_headers_new(m->hdr_count);
    for (uint32_t i = 0; i < m->hdr_count; ++i) {
      const Hdr& h = g->hdrs[m->hdr_first + i];
      rd_kafka_header_add(hdrs, base + h.name_off, h.name_len,
                          h.val_len < 0 ? nullptr : base + h.val_off, h.val_len);
    }
  }
  // A partition key without a message key: librdkafka only runs the partitioner for keyed
  // messages, so the message gets an empty key (see README).
  const char* key = m->key_len >= 0 ? base + m->key_off : (m->pkey_len >= 0 ? base : nullptr);
  size_t key_len = m->key_len >= 0 ? static_cast<size_t>(m->key_len) : 0;
  rd_kafka_resp_err_t err = rd_kafka_producev(
      prod_->rk, RD_KAFKA_V_RKT(topic_handle(*prod_, m->topic)), RD_KAFKA_V_PARTITION(m->partition),
      RD_KAFKA_V_VALUE(const_cast<char*>(base + m->value_off), m->value_len),
      RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_TIMESTAMP(m->timestamp_ms),
      RD_KAFKA_V_OPAQUE(m), RD_KAFKA_V_MSGFLAGS(0), RD_KAFKA_V_END);
  if (err && hdrs) rd_kafka_headers_destroy(hdrs);
  return err;
}

// Produces what waits: due retries first (older data), then the backlog, in order.
void KafkaOutput::drain() {
  if (!prod_ || rebuild_pending_) {
    update_hold();
    return;
  }
  double now = mono_now();
  size_t n = retry_.size();
  while (n-- > 0 && !retry_.empty() && retry_.front()->not_before <= now) {
    Msg* m = retry_.front();
    rd_kafka_resp_err_t err = produce(m);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
    retry_.pop_front();
    if (err) failed(m, err, true);
    if (rebuild_pending_) break;
  }
  while (!backlog_.empty() && !rebuild_pending_) {
    Msg* m = backlog_.front();
    rd_kafka_resp_err_t err = produce(m);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      queue_full_ = true;
      break;
    }
    backlog_.pop_front();
    if (err) failed(m, err, true);
  }
  if (backlog_.empty()) queue_full_ = false;
  update_hold();
}

void KafkaOutput::update_hold() {
  if (!flow_) return;
  bool hold = !backlog_.empty() || !retry_.empty();
  if (hold && !holding_) {
    flow_->hold(this);
    holding_ = true;
  } else if (!hold && holding_) {
    holding_ = false;
    flow_->release(this);
  }
}

// Polls every producer, rebuilds a failed one, produces what waits, and finishes closing.
void KafkaOutput::service() {
  for (auto it = retired_.begin(); it != retired_.end();) {
    Producer& p = **it;
    rd_kafka_poll(p.rk, 0);
    if (rd_kafka_outq_len(p.rk) == 0 || mono_now() - p.retired_at > 30) {
      if (rd_kafka_outq_len(p.rk) > 0)
        log::error(id_ + ": retired producer still holds " + std::to_string(rd_kafka_outq_len(p.rk)) +
                   " messages after 30s; they will be read again at the next start");
      rd_kafka_queue_io_event_enable(p.main_q, -1, nullptr, 0);
      it = retired_.erase(it);
    } else {
      ++it;
    }
  }
  if (prod_) rd_kafka_poll(prod_->rk, 0);
  if (rebuild_pending_ && !closing_) rebuild();
  drain();
  if (queue_depth_ && prod_)
    queue_depth_->store(static_cast<uint64_t>(rd_kafka_outq_len(prod_->rk)) + backlog_.size() + retry_.size(),
                        std::memory_order_relaxed);
  if (closing_ && close_done_ && (pending_msgs_ == 0 || mono_now() >= close_deadline_)) finish_close();
}

void KafkaOutput::rebuild() {
  rebuild_pending_ = false;
  log::warn(id_ + ": rebuilding the Kafka producer; undelivered messages are produced again");
  std::unique_ptr<Producer> fresh = create_producer();
  if (!fresh) {
    log::error(id_ + ": cannot create a new producer: " + create_error_ + "; retrying");
    rebuild_pending_ = true;
    return;
  }
  std::unique_ptr<Producer> old = std::move(prod_);
  prod_ = std::move(fresh);
  rebuild_count_++;
  count(rebuilds_);
  // Its delivery reports (purged, or delivered after all) still come through service().
  rd_kafka_purge(old->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT | RD_KAFKA_PURGE_F_NON_BLOCKING);
  old->retired_at = mono_now();
  retired_.push_back(std::move(old));
}

void KafkaOutput::finish_close() {
  auto done = std::move(close_done_);
  close_done_ = nullptr;
  if (pending_msgs_ > 0)
    log::warn(id_ + ": " + std::to_string(pending_msgs_) +
              " messages were not acknowledged by Kafka within close_timeout; their records "
              "will be read again at the next start");
  closed_ = true;
  retired_.clear();
  if (prod_) {
    rd_kafka_purge(prod_->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_queue_io_event_enable(prod_->main_q, -1, nullptr, 0);
    prod_.reset();
  }
  if (holding_ && flow_) {
    holding_ = false;
    flow_->release(this);
  }
  if (handles_) {
    uv_timer_stop(&tick_);
    uv_poll_stop(&wake_);
    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&tick_))) uv_close(reinterpret_cast<uv_handle_t*>(&tick_), nullptr);
    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&wake_))) uv_close(reinterpret_cast<uv_handle_t*>(&wake_), nullptr);
  }
  if (done) done();
}

}  // namespace kafka

namespace {

using namespace kafka;

std::unique_ptr<Output> make_kafka(Variant v, PluginContext& ctx, const Params& params) {
  const ConfigSection& sec = params.section();
  const ConfigSection* buffer = sec.child("buffer");
  if (buffer) {
    std::string type = buffer->get("@type", "memory");
    if (ctx.registry && ctx.registry->spec("buffer", type)) {
      ctx.check_section(*buffer, "buffer", "memory");
    } else if (ctx.errors) {
      for (auto& e : validate_params(*buffer, buffer_fallback_spec())) ctx.errors->push_back(e);
    }
  }
  Settings s = build_settings(v, params, buffer, ctx.errors);
  LineFormat line;
  if (s.mapper.format == MapperConfig::Format::Line) {
    if (s.format_section && ctx.registry && ctx.registry->spec("formatter", s.format_type))
      ctx.check_section(*s.format_section, "formatter", "json");
    // kafka_buffered's output_data_type names a formatter without a <format> section.
    ConfigSection synthetic{"format", "", sec.pos, {{"@type", s.format_type, sec.pos, false}}, {}};
    line = LineFormat::configure(s.format_section ? s.format_section : &synthetic, s.format_type);
  }
  RecordMapper mapper(s.mapper, std::move(line));
  return std::make_unique<KafkaOutput>(ctx, std::move(s), std::move(mapper));
}

}  // namespace

void register_out_kafka(Registry& registry) {
  for (Variant v : {Variant::Kafka2, Variant::Rdkafka2, Variant::KafkaBuffered})
    registry.add_output(make_spec(v), [v](PluginContext& ctx, const Params& params) {
      return make_kafka(v, ctx, params);
    });
}

}  // namespace sluice
