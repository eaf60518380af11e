#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <cmath>

#include "buffer/buffer.h"
#include "core/plugin.h"

namespace sluice::buffer {

namespace {
std::string trim(std::string s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Fluentd's output.rb: a record chunk key is a plain key of [-_.@a-zA-Z0-9] or a `$.` accessor
// (bracket notation refused).
const std::string& check_record_key(const std::string& key, const SourcePos& pos) {
  if (key.starts_with("$["))
    throw ConfigException(pos, "in chunk_keys: bracket notation is not allowed");
  if (key.starts_with("$.")) {
    for (size_t i = 2; i < key.size(); ++i)
      if (key[i] == '.' && (i + 1 == key.size() || key[i + 1] == '.'))
        throw ConfigException(pos, "in chunk_keys: empty member name in '" + key + "'");
    if (key.size() > 2) return key;
  } else {
    bool plain = true;
    for (char ch : key)
      plain = plain && (isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.' || ch == '@');
    if (plain) return key;
  }
  throw ConfigException(pos, "chunk_keys specification includes invalid char: '" + key + "'");
}

constexpr auto& P = spec::with_default;
constexpr auto& Opt = spec::optional;
constexpr auto& E = spec::choice;
constexpr auto& Ign = spec::ignored;
// <system> workers allows 1 to 64.
constexpr int kMaxWorkers = 64;

PluginSpec make_spec(bool file) {
  PluginSpec s;
  s.kind = "buffer";
  s.type = file ? "file" : "memory";
  s.doc = file ? "Chunks on disk (zstd, written tmp+fsync+rename), resumed after a restart. "
                 "Records are durable once their chunk is on disk, so tail positions may advance "
                 "then."
               : "Chunks in memory; tail positions advance only when chunks are acknowledged.";
  s.params = {
      P("chunk_limit_size", ParamType::Size, file ? "256m" : "8m", "Largest chunk payload."),
      Opt("chunk_limit_records", ParamType::Integer, "Most records in one chunk."),
      P("total_limit_size", ParamType::Size, file ? "64g" : "512m",
        "Payload bytes of all chunks; beyond it overflow_action applies."),
      Opt("queue_limit_length", ParamType::Integer,
          "Deprecated: total_limit_size = chunk_limit_size * queue_limit_length when "
          "total_limit_size is not given."),
      Opt("queued_chunks_limit_size", ParamType::Integer,
          "Chunks queued by the flush timer at most (default flush_thread_count)."),
      P("chunk_full_threshold", ParamType::Float, "0.95", "A chunk this full is sealed."),
      E("overflow_action", "block", {"block", "drop_oldest_chunk", "throw_exception"},
        "When total_limit_size is reached: block pauses the sources (tail stops reading); "
        "drop_oldest_chunk discards queued chunks; throw_exception refuses new records."),
      E("flush_mode", "default", {"default", "interval", "immediate", "lazy"},
        "default: lazy with a time chunk key, else interval."),
      P("flush_interval", ParamType::Duration, "60", "Seal chunks this old (interval mode)."),
      Opt("flush_at_shutdown", ParamType::Bool,
          "Send everything at shutdown (default true for memory, false for file)."),
      P("flush_thread_count", ParamType::Integer, "1",
        "Concurrent in-flight flushes (requests) of this output."),
      Ign("flush_thread_interval", ParamType::Duration, "Accepted; sluice's timer is event driven."),
      Ign("flush_thread_burst_interval", ParamType::Duration, "Accepted; ignored."),
      Ign("delayed_commit_timeout", ParamType::Duration, "Accepted; ignored."),
      E("retry_type", "exponential_backoff", {"exponential_backoff", "periodic"}, "Retry waits."),
      P("retry_wait", ParamType::Duration, "1", "First wait (periodic: every wait)."),
      P("retry_exponential_backoff_base", ParamType::Float, "2", "Growth of the wait."),
      Opt("retry_max_interval", ParamType::Duration, "Longest wait."),
      P("retry_timeout", ParamType::Duration, "72h",
        "Give up (dead-letter the queue) after retrying this long."),
      Opt("retry_max_times", ParamType::Integer, "Give up after this many retries."),
      P("retry_forever", ParamType::Bool, "false", "Never give up."),
      P("retry_randomize", ParamType::Bool, "true", "Randomize waits by up to 12.5%."),
      P("retry_secondary_threshold", ParamType::Float, "0.8",
        "With a <secondary>: the share of retry_timeout (or of retry_max_times) after which queued "
        "chunks go to it."),
      Opt("timekey", ParamType::Duration, "Time slot of the `time` chunk key."),
      P("timekey_wait", ParamType::Duration, "600", "Lazy flush waits this long after a slot."),
      Opt("timekey_use_utc", ParamType::Bool, "Time slots in UTC (else local time)."),
      Ign("timekey_zone", ParamType::String, "Accepted; slots use UTC or local time."),
      Ign("compress", ParamType::String,
          "Accepted; file chunks are always zstd-compressed, memory chunks never."),
      P("disable_chunk_backup", ParamType::Bool, "false",
        "Chunks an output finds unrecoverable (a server refusing them for good) are thrown away, "
        "when there is no <secondary>, instead of written to <root_dir>/backup."),
      Ign("chunk_format", ParamType::String, "Accepted; ignored."),
  };
  if (file) {
    s.params.push_back(Opt("path", ParamType::String,
                           "Directory of the chunk files (a `*` pattern uses its directory)."));
    s.params.push_back(Ign("path_suffix", ParamType::String, "Accepted; ignored."));
    s.params.push_back(Ign("file_permission", ParamType::String, "Accepted; ignored."));
    s.params.push_back(Ign("dir_permission", ParamType::String, "Accepted; ignored."));
  }
  return s;
}
}  // namespace

Config Config::parse_for_output(const PluginContext& ctx, const ConfigSection& output, Defaults defaults) {
  const ConfigSection* section = output.child("buffer");
  if (section && ctx.errors) ctx.check_section(*section, "buffer", "memory");
  defaults.worker_id = ctx.worker_id;
  defaults.workers = ctx.workers;
  defaults.root_dir = ctx.root_dir;
  return parse(section, defaults, ctx.id);
}

std::vector<PluginSpec> buffer_specs() { return {make_spec(false), make_spec(true)}; }

Config Config::parse(const ConfigSection* section, const Defaults& defaults,
                     const std::string& plugin_id) {
  static const ConfigSection empty{"buffer", "", {}, {}, {}};
  const ConfigSection& s = section ? *section : empty;
  Config c;
  std::string type = s.get("@type", defaults.type);
  if (type != "memory" && type != "file")
    throw ConfigException(s.pos, "unknown buffer type '" + type + "' (memory, file)");
  c.type = type == "file" ? Type::File : Type::Memory;
  PluginSpec spec = make_spec(c.type == Type::File);
  Params p(s, spec);

  std::vector<std::string> keys;
  if (section && !trim(section->arg).empty()) {
    parse_array(section->arg, keys);
  } else {
    keys = defaults.chunk_keys;
  }
  for (auto& k : keys) {
    k = trim(k);
    if (k == "tag") c.key_tag = true;
    else if (k == "time") c.key_time = true;
    else if (k == "_index" || k.empty()) continue;  // the output's partition is always a key
    else if (defaults.record_keys) c.record_keys.push_back(check_record_key(k, s.pos));
    else
      throw ConfigException(s.pos, "chunk key '" + k +
                                       "' is not supported (sluice supports tag, time and _index)");
  }
  if (c.key_time) {
    if (!p.has("timekey") && defaults.timekey <= 0)
      throw ConfigException(s.pos, "<buffer time> needs a timekey (e.g. timekey 1h)");
    c.timekey = p.has("timekey") ? p.seconds("timekey") : defaults.timekey;
    if (c.timekey < 1) throw ConfigException(p.pos("timekey"), "timekey must be at least 1s");
  }
  c.timekey_wait = p.seconds("timekey_wait");
  c.timekey_use_utc = p.has("timekey_use_utc") ? p.flag("timekey_use_utc") : defaults.timekey_use_utc;

  c.chunk_limit_size = p.size("chunk_limit_size");
  if (c.chunk_limit_size < 1024)
    throw ConfigException(p.pos("chunk_limit_size"), "chunk_limit_size must be at least 1k");
  if (p.has("chunk_limit_records")) {
    int64_t n = p.integer("chunk_limit_records");
    if (n <= 0) throw ConfigException(p.pos("chunk_limit_records"), "chunk_limit_records must be > 0");
    c.chunk_limit_records = uint64_t(n);
  }
  c.chunk_full_threshold = p.real("chunk_full_threshold");
  if (c.chunk_full_threshold <= 0 || c.chunk_full_threshold > 1)
    throw ConfigException(p.pos("chunk_full_threshold"), "chunk_full_threshold must be in (0, 1]");
  c.total_limit_size = p.size("total_limit_size");
  if (!p.has("total_limit_size") && p.has("queue_limit_length")) {
    int64_t q = p.integer("queue_limit_length");
    if (q > 0) c.total_limit_size = c.chunk_limit_size * uint64_t(q);
  }
  if (c.total_limit_size < c.chunk_limit_size)
    throw ConfigException(s.pos, "total_limit_size must be at least chunk_limit_size");

  std::string ov = p.str("overflow_action");
  c.overflow = ov == "drop_oldest_chunk" ? Overflow::DropOldestChunk
               : ov == "throw_exception" ? Overflow::ThrowException
                                         : Overflow::Block;
  std::string fm = p.str("flush_mode");
  c.flush_mode = fm == "immediate" ? FlushMode::Immediate
                 : fm == "lazy"    ? FlushMode::Lazy
                 : fm == "interval" ? FlushMode::Interval
                 : c.key_time       ? FlushMode::Lazy
                                    : FlushMode::Interval;
  c.flush_interval = p.seconds("flush_interval");
  c.flush_at_shutdown = p.has("flush_at_shutdown") ? p.flag("flush_at_shutdown")
                                                   : c.type == Type::Memory;
  c.flush_thread_count = int(p.integer("flush_thread_count"));
  if (c.flush_thread_count < 1)
    throw ConfigException(p.pos("flush_thread_count"), "flush_thread_count must be >= 1");
  c.queued_chunks_limit_size = p.has("queued_chunks_limit_size")
                                   ? size_t(std::max<int64_t>(1, p.integer("queued_chunks_limit_size")))
                                   : size_t(c.flush_thread_count);

  c.retry_type = p.str("retry_type") == "periodic" ? RetryType::Periodic : RetryType::ExponentialBackoff;
  c.retry_wait = p.seconds("retry_wait");
  if (c.retry_wait <= 0) throw ConfigException(p.pos("retry_wait"), "retry_wait must be > 0");
  c.retry_exponential_backoff_base = p.real("retry_exponential_backoff_base");
  if (c.retry_exponential_backoff_base < 1)
    throw ConfigException(p.pos("retry_exponential_backoff_base"),
                          "retry_exponential_backoff_base must be >= 1");
  c.retry_max_interval = p.has("retry_max_interval") ? p.seconds("retry_max_interval") : 0;
  c.retry_timeout = p.seconds("retry_timeout");
  c.retry_max_times = p.has("retry_max_times") ? p.integer("retry_max_times") : -1;
  c.retry_forever = p.flag("retry_forever");
  c.retry_randomize = p.flag("retry_randomize");
  c.retry_secondary_threshold = p.real("retry_secondary_threshold");
  if (!(c.retry_secondary_threshold > 0 && c.retry_secondary_threshold <= 1))
    throw ConfigException(p.pos("retry_secondary_threshold"), "retry_secondary_threshold must be more than 0 and at most 1");

  if (!p.flag("disable_chunk_backup")) {
    // Fluentd's Buffer#backup: root_dir, else FLUENT_BACKUP_DIR, else /tmp/fluent.
    std::string base = defaults.root_dir;
    if (base.empty()) {
      const char* env = getenv("FLUENT_BACKUP_DIR");
      base = env && *env ? env : "/tmp/fluent";
    }
    std::string safe_id = plugin_id;
    for (char& ch : safe_id)
      if (strchr(" \"/\\:;|*<>?", ch)) ch = '_';
    c.backup_dir = base + "/backup/worker" + std::to_string(defaults.worker_id) + "/" + safe_id;
  }

  if (c.type == Type::File) {
    std::string path = p.has("path") ? p.str("path") : "";
    if (path.empty()) {
      if (defaults.root_dir.empty())
        throw ConfigException(s.pos, "<buffer> @type file needs a path");
      path = defaults.root_dir + "/buffer/" + plugin_id;
    }
    if (path.find('*') != std::string::npos) {
      size_t slash = path.rfind('/', path.find('*'));
      path = slash == std::string::npos ? "." : path.substr(0, slash);
    }
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    c.path = path;
    // Several workers: each its own directory, as Fluentd's buf_file does (their chunk ids would
    // collide in one). Worker 0 takes over what a run with another number of workers left: in
    // the directory itself, and in those of workers this run does not have.
    auto worker_dir = [&](int w) { return path + "/worker" + std::to_string(w); };
    if (defaults.workers > 1) c.path = worker_dir(defaults.worker_id);
    if (defaults.worker_id == 0) {
      if (defaults.workers > 1) c.adopt_dirs.push_back(path);
      for (int w = std::max(1, defaults.workers); w < kMaxWorkers; ++w) c.adopt_dirs.push_back(worker_dir(w));
    }
  }
  return c;
}

}  // namespace sluice::buffer
