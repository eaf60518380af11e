// The kafka2 output's state: the messages of each written batch, the producers, and the queues of
// what waits to be produced. out_kafka.cpp runs the producer; kafka_delivery.cpp handles delivery
// reports, retries and dead letters.
#pragma once

#include <librdkafka/rdkafka.h>
#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/plugin.h"
#include "kafka_format.h"
#include "kafka_settings.h"

namespace sluice::kafka {

double mono_now();

struct Group;

struct Msg {
  Group* group = nullptr;
  uint32_t value_off = 0, value_len = 0;
  uint32_t key_off = 0;
  int32_t key_len = -1;   // -1: no key
  uint32_t pkey_off = 0;
  int32_t pkey_len = -1;  // -1: no partition key
  int32_t partition = RD_KAFKA_PARTITION_UA;
  uint32_t topic = 0;     // index into KafkaOutput::topics_
  uint32_t hdr_first = 0, hdr_count = 0;
  int64_t timestamp_ms = 0;
  uint32_t attempts = 0;
  bool done = false;
  double first_failure = 0;
  double not_before = 0;
};

struct Hdr {
  uint32_t name_off, name_len, val_off;
  int32_t val_len;  // -1: null
};

struct Group {
  Claim* claim = nullptr;
  std::string tag;
  std::string data;
  std::vector<Msg> msgs;
  std::vector<Hdr> hdrs;
  size_t pending = 0;
};

struct Producer {
  rd_kafka_t* rk = nullptr;
  rd_kafka_queue_t* main_q = nullptr;
  std::vector<rd_kafka_topic_t*> rkts;
  double retired_at = 0;
  ~Producer() {
    for (auto* t : rkts)
      if (t) rd_kafka_topic_destroy(t);
    if (main_q) rd_kafka_queue_destroy(main_q);
    if (rk) rd_kafka_destroy(rk);
  }
};

class KafkaOutput : public Output {
 public:
  KafkaOutput(const PluginContext& ctx, Settings settings, RecordMapper mapper);
  ~KafkaOutput() override;
  void start() override;
  void write(const Batch& batch) override;
  void close(std::function<void()> done) override;

 private:
  Counter& metric(const std::string& name);
  Counter* error_counter(const char* family, rd_kafka_resp_err_t err);
  static void count(Counter* c, uint64_t n = 1) {
    if (c) bump(*c, n);
  }

  // ---- producer ----
  rd_kafka_conf_t* make_conf();
  std::unique_ptr<Producer> create_producer();
  static int32_t partition(const rd_kafka_topic_t* rkt, const void* key, size_t keylen,
                           int32_t partition_cnt, void* topic_opaque, void* msg_opaque);
  uint32_t intern(std::string_view name);
  rd_kafka_topic_t* topic_handle(Producer& p, uint32_t idx);
  static std::string expand_tag(const std::string& pattern, std::string_view tag);
  std::string topic_name_for(uint32_t fixed, std::string_view rec_topic, std::string_view tag);
  rd_kafka_resp_err_t produce(Msg* m);
  void drain();
  void update_hold();
  void service();
  void rebuild();
  void finish_close();

  // ---- delivery ----
  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* km, void* opaque);
  void finish(Msg* m);
  void requeue(Msg* m, bool backoff);
  void failed(Msg* m, rd_kafka_resp_err_t err, bool at_produce);
  void dead_letter_msg(Msg* m, const std::string& reason);
  void dead_letter(const std::string& tag, const std::string& topic,
                   std::optional<std::string_view> key, std::string_view value,
                   const std::string& reason);
  void rate_limited_warn(rd_kafka_resp_err_t err, const std::string& text);
  static void on_error(rd_kafka_t* rk, int err_, const char* reason, void* opaque);
  static void on_log(const rd_kafka_t* rk, int level, const char* fac, const char* buf);

  uv_loop_t* loop_;
  Metrics* metrics_;
  FlowControl* flow_;
  std::string id_;
  std::function<Emitter*(const std::string&)> label_emitter_;
  Settings s_;
  RecordMapper mapper_;
  MessageMeta meta_;
  std::regex discard_re_;

  std::unique_ptr<Producer> prod_;
  std::vector<std::unique_ptr<Producer>> retired_;
  std::string create_error_;
  bool rebuild_pending_ = false;
  int rebuild_count_ = 0;

  std::vector<std::string> topics_;
  std::unordered_map<std::string, uint32_t> topic_ids_;
  uint32_t default_topic_ = UINT32_MAX;

  std::unordered_set<Group*> groups_;
  std::deque<Msg*> backlog_;  // not yet produced (queue full), in order
  std::deque<Msg*> retry_;    // failed, waiting for their backoff
  size_t pending_msgs_ = 0;
  bool queue_full_ = false;
  bool holding_ = false;
  size_t last_batch_bytes_ = 0, last_batch_records_ = 1;  // sizes write()'s reservation

  int wake_fds_[2] = {-1, -1};
  uv_poll_t wake_{};
  uv_timer_t tick_{};
  bool handles_ = false;
  bool closing_ = false;
  bool closed_ = false;
  double close_deadline_ = 0;
  std::function<void()> close_done_;

  int dead_letter_fd_ = -1;
  uint64_t dead_letter_logged_ = 0;
  std::map<int, std::pair<double, uint64_t>> warned_;

  Counter* messages_ = nullptr;
  Counter* bytes_ = nullptr;
  Counter* retries_ = nullptr;
  Counter* dead_letters_ = nullptr;
  Counter* rebuilds_ = nullptr;
  Counter* queue_depth_ = nullptr;
  std::map<std::pair<std::string, int>, Counter*> error_counters_;
};

}  // namespace sluice::kafka
