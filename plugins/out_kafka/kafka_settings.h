// The kafka2 / rdkafka2 / kafka_buffered parameters (fluent-plugin-kafka's names) turned into
// librdkafka properties and sluice's own delivery policy. Kept apart from the output so it can be
// unit-tested without a broker.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/params.h"
#include "kafka_format.h"

namespace sluice {
class Registry;
struct PluginContext;
}  // namespace sluice

namespace sluice::kafka {

enum class Variant { Kafka2, Rdkafka2, KafkaBuffered };

struct Property {
  std::string name, value;
  SourcePos pos;        // where it came from (for errors)
  bool secret = false;  // never logged or echoed
};

struct Settings {
  std::vector<Property> props;  // librdkafka global properties, applied in order
  std::string topic;            // `topic` (may hold ${tag}); empty: per record
  std::string default_topic;    // empty: the tag
  bool use_default_for_unknown_topic = false;
  bool use_default_for_unknown_partition_error = false;
  bool murmur2 = false;         // partitioner_hash_function murmur2
  bool use_event_time = false;
  std::optional<uint64_t> max_send_limit_bytes;
  bool discard_delivery_failed = false;
  std::string discard_delivery_failed_regex;
  bool client_log = false;      // get_kafka_client_log
  // Re-producing failed messages (from <buffer>'s retry_* params).
  bool retry_forever = false;
  double retry_timeout = 72 * 3600.0;
  std::optional<int64_t> retry_max_times;
  double retry_wait = 1.0;
  double retry_max_interval = 30.0;
  double close_timeout = 15.0;
  std::string dead_letter_path;
  MapperConfig mapper;
  // `<format>` section for line formats (single_value, out_file, ...); null: none.
  const ConfigSection* format_section = nullptr;
  std::string format_type = "json";
  std::vector<std::string> notes;  // decisions worth an info line at start (no secrets)
};

// The declared parameters of each variant.
PluginSpec make_spec(Variant v);
// The fallback `<buffer>` declaration used when no "buffer" spec is registered.
PluginSpec buffer_fallback_spec();

// `""` (what `"#{ENV['X'] || nil}"` gives when X is unset) counts as not given, for every
// parameter of these plugins: see README ("Empty values").
bool given(const ConfigSection& s, const std::string& name);

// Builds the settings; throws ConfigException (file:line) for bad values. Nested-section
// problems go to `errors` when given.
Settings build_settings(Variant v, const Params& params, const ConfigSection* buffer,
                        std::vector<ConfigError>* errors);

// True for librdkafka property names whose values are secrets.
bool is_secret_property(const std::string& name);

}  // namespace sluice::kafka
