// `@type file`: Fluentd's out_file. Records are formatted into in-memory chunks keyed by
// (tag, time slot) and written to files named as Fluentd names them when a chunk is flushed.
// Chunks retain the delivery claims of the batches they hold and release them once the data
// is written and fdatasync'ed: that is what lets the sources' checkpoints advance.
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <list>
#include <unordered_map>

#include "buffer/chunk_file.h"
#include "core/delivery.h"
#include "core/log.h"
#include "core/registry.h"
#include "format/line_format.h"
#include "format/record_inject.h"
#include "format/tag_placeholders.h"
#include "format/time.h"

namespace sluice {

namespace {

std::string errno_text(int err) { return strerror(err); }

// Fluentd's timekey_to_timeformat.
std::string timekey_format(int64_t timekey) {
  if (timekey < 60) return "%Y%m%d%H%M%S";
  if (timekey < 3600) return "%Y%m%d%H%M";
  if (timekey < 86400) return "%Y%m%d%H";
  return "%Y%m%d";
}

bool mkdir_p(const std::string& dir, mode_t mode, int& err) {
  if (dir.empty()) return true;
  struct stat st;
  if (stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return true;
    err = ENOTDIR;
    return false;
  }
  size_t slash = dir.find_last_of('/');
  if (slash != std::string::npos && slash > 0 && !mkdir_p(dir.substr(0, slash), mode, err))
    return false;
  if (mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) {
    err = errno;
    return false;
  }
  return true;
}

std::string dirname_of(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return {};
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool gzip(std::string_view in, std::string& out) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return false;
  out.resize(deflateBound(&zs, in.size()) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END;
}

// Whether the file at `path`, of `size` bytes, to which line-oriented `payload` is appended, ends
// without its last line's newline. (Opened again for reading: the output's descriptor is
// write-only.)
bool ends_inside_line(const std::string& path, off_t size, std::string_view payload) {
  if (size == 0 || payload.empty() || payload.back() != '\n') return false;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char last = '\n';
  bool inside = ::pread(fd, &last, 1, size - 1) == 1 && last != '\n';
  ::close(fd);
  return inside;
}

struct Chunk {
  std::string key;
  std::string tag;  // when chunked by tag
  int64_t slot = 0;
  std::string data;
  std::vector<Claim*> claims;
  uint64_t records = 0;
  const void* last_claim_batch = nullptr;  // the batch whose claim was last retained here
};

struct Options {
  std::string path_template;  // with `_**` as the index placeholder when not appending
  bool append = false;
  bool gzip = false;
  bool chunk_by_tag = false;
  bool chunk_by_time = false;
  int64_t timekey = 86400;
  double timekey_wait = 600;
  bool timekey_utc = false;
  enum class Mode { Lazy, Interval, Immediate } mode = Mode::Lazy;
  double flush_interval = 60;
  bool flush_at_shutdown = true;
  uint64_t chunk_limit_size = 8u << 20;
  uint64_t total_limit_size = 512u << 20;
  mode_t file_perm = 0644;
  mode_t dir_perm = 0755;
  std::string symlink_path;
};

class FileOutput : public Output {
 public:
  FileOutput(PluginContext& ctx, Options opts, LineFormat format, RecordInjector inject)
      : loop_(ctx.loop), flow_(ctx.flow), id_(ctx.id), opts_(std::move(opts)),
        format_(std::move(format)), inject_(std::move(inject)) {}

  ~FileOutput() override {
    if (timer_) {
      // close() was not called: let the loop free the handle.
      timer_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(timer_),
               [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    }
    if (holding_ && flow_) flow_->release(this);
  }

  void start() override {
    if (!loop_ || timer_) return;
    timer_ = new uv_timer_t;
    uv_timer_init(loop_, timer_);
    timer_->data = this;
    double tick = opts_.mode == Options::Mode::Interval ? opts_.flush_interval : 1.0;
    uint64_t ms = std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(tick * 1000)));
    uv_timer_start(timer_, [](uv_timer_t* t) {
      if (t->data) static_cast<FileOutput*>(t->data)->on_tick();
    }, ms, ms);
  }

  void write(const Batch& batch) override {
    Chunk* current = nullptr;
    int64_t current_slot = 0;
    // out_file.rb's format: inject_values_to_record, then the formatter.
    const Batch& records = inject_.active() ? inject_.apply(batch) : batch;
    for (const Record& r : records.records) {
      int64_t slot = opts_.chunk_by_time ? slot_of(r.time.sec) : 0;
      if (!current || slot != current_slot) {
        current = &chunk_for(batch.tag, slot);
        current_slot = slot;
        if (batch.claim && current->last_claim_batch != &batch) {
          batch.claim->retain();
          current->claims.push_back(batch.claim);
          current->last_claim_batch = &batch;
        }
      }
      size_t before = current->data.size();
      format_.append(current->data, batch.tag, records, r);
      total_bytes_ += current->data.size() - before;
      current->records++;
    }
    // Claims are deduplicated per batch only while formatting it; reset the markers so a later
    // batch at the same address retains again.
    for (Chunk& c : chunks_) c.last_claim_batch = nullptr;

    if (opts_.mode == Options::Mode::Immediate) {
      flush_all(false);
    } else {
      for (auto it = chunks_.begin(); it != chunks_.end();) {
        auto next = std::next(it);
        if (it->data.size() >= opts_.chunk_limit_size) flush_chunk(it, false);
        it = next;
      }
    }
    update_backpressure();
  }

  void close(std::function<void()> done) override {
    if (timer_) uv_timer_stop(timer_);
    if (opts_.flush_at_shutdown) flush_all(true);
    if (!chunks_.empty())
      log::warn("file output " + id_ + ": " + std::to_string(chunks_.size()) +
                " chunk(s) not written at shutdown; their records will be read again");
    if (holding_ && flow_) {
      flow_->release(this);
      holding_ = false;
    }
    if (!timer_) {
      done();
      return;
    }
    uv_timer_t* t = timer_;
    timer_ = nullptr;
    t->data = new std::function<void()>(std::move(done));
    uv_close(reinterpret_cast<uv_handle_t*>(t), [](uv_handle_t* h) {
      auto* cb = static_cast<std::function<void()>*>(h->data);
      delete reinterpret_cast<uv_timer_t*>(h);
      (*cb)();
      delete cb;
    });
  }

 private:
  int64_t slot_of(int64_t sec) {
    int64_t offset = 0;
    if (!opts_.timekey_utc) {
      int64_t bucket = sec / 900;
      if (bucket != offset_bucket_) {
        time_t t = static_cast<time_t>(sec);
        struct tm tm;
        localtime_r(&t, &tm);
        offset_ = tm.tm_gmtoff;
        offset_bucket_ = bucket;
      }
      offset = offset_;
    }
    int64_t k = opts_.timekey;
    int64_t m = (sec + offset) % k;
    if (m < 0) m += k;
    return sec - m;
  }

  Chunk& chunk_for(std::string_view tag, int64_t slot) {
    key_.clear();
    if (opts_.chunk_by_tag) key_.append(tag);
    key_.push_back('\0');
    if (opts_.chunk_by_time) key_.append(std::to_string(slot));
    auto it = index_.find(key_);
    if (it != index_.end()) return *it->second;
    Chunk& c = chunks_.emplace_back();
    c.key = key_;
    if (opts_.chunk_by_tag) c.tag = tag;
    c.slot = slot;
    index_.emplace(c.key, std::prev(chunks_.end()));
    return c;
  }

  void on_tick() {
    int64_t now_sec = now().sec;
    double mono = uv_now(loop_) / 1000.0;
    if (mono < retry_at_) return;
    bool failed = false;
    for (auto it = chunks_.begin(); it != chunks_.end();) {
      auto next = std::next(it);
      bool due = opts_.mode != Options::Mode::Lazy || !opts_.chunk_by_time ||
                 static_cast<double>(now_sec) >=
                     static_cast<double>(it->slot + opts_.timekey) + opts_.timekey_wait;
      if (due && !flush_chunk(it, false)) failed = true;
      it = next;
    }
    if (failed) {
      retries_ = std::min(retries_ + 1, 6);
      retry_at_ = mono + static_cast<double>(1 << retries_);  // 2s .. 64s
    } else {
      retries_ = 0;
      retry_at_ = 0;
    }
    update_backpressure();
  }

  void flush_all(bool shutdown) {
    for (auto it = chunks_.begin(); it != chunks_.end();) {
      auto next = std::next(it);
      flush_chunk(it, shutdown);
      it = next;
    }
  }

  void update_backpressure() {
    if (!flow_) return;
    if (!holding_ && total_bytes_ >= opts_.total_limit_size) {
      flow_->hold(this);
      holding_ = true;
    } else if (holding_ && total_bytes_ < opts_.total_limit_size / 2) {
      flow_->release(this);
      holding_ = false;
    }
  }

  std::string resolve_path(const Chunk& c) {
    std::string path;
    if (opts_.chunk_by_time)
      append_time(path, EventTime{c.slot, 0}, opts_.path_template, opts_.timekey_utc);
    else
      path = opts_.path_template;
    return expand_tag_placeholders(path, c.tag);
  }

  // Writes one chunk and drops it. Returns false (keeping the chunk) on failure.
  bool flush_chunk(std::list<Chunk>::iterator it, bool shutdown) {
    Chunk& c = *it;
    if (c.data.empty()) {
      release_and_erase(it);
      return true;
    }
    std::string path = resolve_path(c);
    int err = 0;
    if (!mkdir_p(dirname_of(path), opts_.dir_perm, err)) {
      report(dirname_of(path), "cannot create directory", err);
      return false;
    }
    std::string_view payload = c.data;
    std::string compressed;
    if (opts_.gzip) {
      if (!gzip(c.data, compressed)) {
        report(path, "gzip failed", EIO);
        return false;
      }
      payload = compressed;
    }
    int fd = -1;
    std::string actual = path;
    if (opts_.append) {
      fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, opts_.file_perm);
      if (fd < 0) err = errno;
      // Other workers may append to the same file: while one writes, the size another sees can
      // end inside that chunk, which would look like a torn line. Held until the close below.
      else flock(fd, LOCK_EX);
    } else {
      size_t idx = path.find("_**");
      for (int i = 0; fd < 0 && i < 1000000; ++i) {
        actual = path;
        if (idx != std::string::npos) actual.replace(idx, 3, "_" + std::to_string(i));
        fd = ::open(actual.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
                    opts_.file_perm);
        if (fd < 0) {
          err = errno;
          if (err != EEXIST || idx == std::string::npos) break;
        }
      }
    }
    if (fd < 0) {
      report(actual, "cannot open", err);
      return false;
    }
    struct stat st;
    off_t original = fstat(fd, &st) == 0 ? st.st_size : 0;
    err = 0;
    if (opts_.append && !opts_.gzip && ends_inside_line(actual, original, payload)) {
      // A write cut short by a crash left part of a chunk (written again in full since): the
      // first record goes on a line of its own instead of being glued to that part.
      log::warn("file output " + id_ + ": " + actual + " ends inside a line (a write cut short, " +
                "as by a crash); the next record starts a new line");
      err = buffer::write_fully(fd, "\n");
    }
    if (err == 0) err = buffer::write_fully(fd, payload);
    if (err == 0 && fdatasync(fd) != 0 && errno != EINVAL && errno != EROFS) err = errno;
    if (err != 0) {
      // Leave no partial chunk behind: the whole chunk is written again at the next flush.
      if (opts_.append) {
        if (ftruncate(fd, original) != 0) { /* nothing better to do */ }
      } else {
        unlink(actual.c_str());
      }
      ::close(fd);
      report(actual, "write failed", err);
      return false;
    }
    if (::close(fd) != 0 && errno != EINTR) {
      report(actual, "close failed", errno);
      return false;
    }
    if (!opts_.symlink_path.empty()) update_symlink(actual);
    if (failing_) {
      log::info("file output " + id_ + ": writing to " + actual + " works again");
      failing_ = false;
    }
    release_and_erase(it);
    return true;
  }

  void update_symlink(const std::string& target) {
    std::string tmp = opts_.symlink_path + ".tmp" + std::to_string(getpid());
    int err = 0;
    mkdir_p(dirname_of(opts_.symlink_path), opts_.dir_perm, err);
    unlink(tmp.c_str());
    if (symlink(target.c_str(), tmp.c_str()) != 0 || rename(tmp.c_str(), opts_.symlink_path.c_str()) != 0) {
      log::warn("file output " + id_ + ": cannot update symlink " + opts_.symlink_path + ": " +
                errno_text(errno));
      unlink(tmp.c_str());
    }
  }

  void report(const std::string& path, const char* what, int err) {
    failing_ = true;
    log::error("file output " + id_ + ": " + what + " " + path + ": " + errno_text(err) +
               " (the chunk is kept and retried)");
  }

  void release_and_erase(std::list<Chunk>::iterator it) {
    total_bytes_ -= it->data.size();
    for (Claim* claim : it->claims) claim->release();
    index_.erase(it->key);
    chunks_.erase(it);
  }

  uv_loop_t* loop_;
  FlowControl* flow_;
  std::string id_;
  Options opts_;
  LineFormat format_;
  RecordInjector inject_;
  uv_timer_t* timer_ = nullptr;
  std::list<Chunk> chunks_;
  std::unordered_map<std::string, std::list<Chunk>::iterator> index_;
  std::string key_;
  uint64_t total_bytes_ = 0;
  bool holding_ = false;
  bool failing_ = false;
  int retries_ = 0;
  double retry_at_ = 0;
  int64_t offset_bucket_ = INT64_MIN;
  int64_t offset_ = 0;
};

mode_t parse_perm(const Params& params, const std::string& name) {
  std::string v = params.str(name);
  char* end = nullptr;
  long m = std::strtol(v.c_str(), &end, 8);
  if (v.empty() || *end || m < 0 || m > 07777)
    throw ConfigException(params.pos(name), "'" + name + "' must be an octal mode like 0644");
  return static_cast<mode_t>(m);
}

// Reads the `<buffer>` section (Fluentd's buffer parameters that matter for a memory buffer
// with file output).
void configure_buffer(const ConfigSection* buffer, Options& o, bool& flush_interval_given) {
  o.chunk_by_time = true;  // out_file's default chunk key
  if (!buffer) return;
  std::string arg = buffer->arg;
  // `<buffer []>`: explicitly no chunk keys, so the path is used as it is.
  if (arg == "[]") {
    o.chunk_by_time = false;
    arg.clear();
  }
  bool explicit_none = buffer->arg == "[]";
  for (char& c : arg)
    if (c == ',') c = ' ';
  bool any_key = false;
  size_t pos = 0;
  o.chunk_by_time = false;
  while (pos < arg.size()) {
    size_t start = arg.find_first_not_of(' ', pos);
    if (start == std::string::npos) break;
    size_t end = arg.find(' ', start);
    if (end == std::string::npos) end = arg.size();
    std::string key = arg.substr(start, end - start);
    any_key = true;
    if (key == "tag")
      o.chunk_by_tag = true;
    else if (key == "time")
      o.chunk_by_time = true;
    else
      throw ConfigException(buffer->pos, "buffer chunk key '" + key +
                                             "' is not supported by file output (tag, time)");
    pos = end;
  }
  if (!any_key && !explicit_none) o.chunk_by_time = true;  // `<buffer>` without arguments: out_file's default

  auto num = [&](const char* key, auto parse, auto& out) {
    if (const ConfigParam* p = buffer->param(key)) {
      if (!parse(p->value, out))
        throw ConfigException(p->pos, std::string("invalid value for '") + key + "' in <buffer>: '" +
                                          p->value + "'");
      return true;
    }
    return false;
  };
  auto dur = [](const std::string& s, double& d) { return parse_duration(s, d); };
  auto size = [](const std::string& s, uint64_t& v) { return parse_size(s, v); };
  auto boolean = [](const std::string& s, bool& b) { return parse_bool(s, b); };

  double timekey = 0;
  if (num("timekey", dur, timekey)) {
    if (timekey < 1)
      throw ConfigException(buffer->param("timekey")->pos, "timekey must be at least 1s");
    o.timekey = static_cast<int64_t>(timekey);
  }
  num("timekey_wait", dur, o.timekey_wait);
  num("timekey_use_utc", boolean, o.timekey_utc);
  flush_interval_given = num("flush_interval", dur, o.flush_interval);
  if (o.flush_interval <= 0) o.flush_interval = 0.001;
  num("flush_at_shutdown", boolean, o.flush_at_shutdown);
  num("chunk_limit_size", size, o.chunk_limit_size);
  num("total_limit_size", size, o.total_limit_size);
  if (const ConfigParam* p = buffer->param("flush_mode")) {
    if (p->value == "lazy")
      o.mode = Options::Mode::Lazy;
    else if (p->value == "interval")
      o.mode = Options::Mode::Interval;
    else if (p->value == "immediate")
      o.mode = Options::Mode::Immediate;
    else if (p->value != "default")
      throw ConfigException(p->pos, "flush_mode must be default, lazy, interval or immediate");
  }
  if (const ConfigParam* p = buffer->param("timekey_zone"))
    log::warn(p->pos.file + ":" + std::to_string(p->pos.line) +
              ": timekey_zone is not supported; time slots use local time or timekey_use_utc");
  if (const ConfigParam* p = buffer->param("@type"); p && p->value != "memory" && p->value != "file")
    throw ConfigException(p->pos, "unknown buffer type '" + p->value + "' (memory or file)");

  static const char* accepted[] = {
      "@type", "path", "timekey", "timekey_wait", "timekey_use_utc", "timekey_zone",
      "flush_mode", "flush_interval", "flush_at_shutdown", "flush_thread_count",
      "flush_thread_interval", "flush_thread_burst_interval", "chunk_limit_size",
      "chunk_limit_records", "total_limit_size", "queue_limit_length", "queued_chunks_limit_size",
      "chunk_full_threshold", "compress", "overflow_action", "retry_forever", "retry_timeout",
      "retry_max_times", "retry_type", "retry_wait", "retry_max_interval",
      "retry_exponential_backoff_base", "retry_randomize", "retry_secondary_threshold",
      "delayed_commit_timeout", "disable_chunk_backup", "path_suffix"};
  for (const ConfigParam& p : buffer->params) {
    bool ok = is_system_param(p.key);
    for (const char* k : accepted) ok = ok || p.key == k;
    if (!ok)
      log::warn(p.pos.file + ":" + std::to_string(p.pos.line) + ": parameter '" + p.key +
                "' in <buffer> is not used.");
  }
}

std::unique_ptr<Output> build(PluginContext& ctx, const Params& params) {
  const ConfigSection& section = params.section();
  Options o;
  bool flush_interval_given = false;
  configure_buffer(section.child("buffer"), o, flush_interval_given);
  // Flush policy: flush_interval when given (Fluentd ignores it in lazy mode, with a warning;
  // we honour it), else lazy when chunked by time (at slot end + timekey_wait), else every
  // flush_interval (60s).
  if (const ConfigSection* b = section.child("buffer"); !b || !b->param("flush_mode")) {
    if (flush_interval_given || !o.chunk_by_time)
      o.mode = Options::Mode::Interval;
    else
      o.mode = Options::Mode::Lazy;
  }

  std::string path = params.str("path");
  if (path.empty()) throw ConfigException(params.pos("path"), "'path' is required");
  o.append = params.flag("append");
  std::string compress = params.has("compress") ? params.str("compress") : "text";
  if (compress == "gzip" || compress == "gz")
    o.gzip = true;
  else if (compress != "text")
    throw ConfigException(params.pos("compress"), "compress must be text or gzip");
  std::string suffix = params.flag("add_path_suffix") ? params.str("path_suffix") : "";
  std::string comp_suffix = o.gzip ? ".gz" : "";
  std::string index = o.append ? "" : "_**";
  if (path.find("${tag") != std::string::npos) o.chunk_by_tag = true;

  // Fluentd's generate_path_template.
  if (path.find('*') != std::string::npos) {
    if (!o.chunk_by_time)
      throw ConfigException(params.pos("path"),
                            "path including '*' must be used with buffer chunk key 'time'");
    std::string replaced;
    for (char c : path) {
      if (c == '*')
        replaced += timekey_format(o.timekey) + index;
      else
        replaced += c;
    }
    o.path_template = replaced + comp_suffix;
  } else if (o.chunk_by_time) {
    std::string fmt = timekey_format(o.timekey);
    bool any = false, all = true;
    for (size_t i = 0; i + 1 < fmt.size(); i += 2) {
      bool has = path.find(fmt.substr(i, 2)) != std::string::npos;
      any = any || has;
      all = all && has;
    }
    if (any && !all)
      throw ConfigException(params.pos("path"), "insufficient timestamp placeholders in path");
    o.path_template = any ? path + index + suffix + comp_suffix
                          : path + "." + fmt + index + suffix + comp_suffix;
  } else {
    o.path_template = path + index + suffix + comp_suffix;
  }
  o.file_perm = parse_perm(params, "file_perm");
  o.dir_perm = parse_perm(params, "dir_perm");
  if (params.has("symlink_path")) o.symlink_path = params.str("symlink_path");

  LineFormat format = LineFormat::configure(section.child("format"), "out_file", &section);
  InjectConfig inject;
  inject.worker_id = ctx.worker_id;
  if (const ConfigSection* s = section.child("inject")) read_inject(*s, inject, ctx.errors);
  return std::make_unique<FileOutput>(ctx, std::move(o), std::move(format), RecordInjector(std::move(inject)));
}

}  // namespace

void register_out_file(Registry& registry) {
  PluginSpec spec{"output", "file",
                  "Writes events to files (Fluentd's out_file): `<time>\\t<tag>\\t<json>` lines.",
                  {},
                  {"buffer", "format", "inject"}};
  ParamSpec path{"path", ParamType::String, "",
                 "File path; may hold ${tag}, ${tag[N]}, strftime %Y%m%d... and `*`."};
  path.required = true;
  path.has_default = false;
  ParamSpec symlink{"symlink_path", ParamType::String, "",
                    "Symlink kept pointing at the last written file."};
  symlink.has_default = false;
  ParamSpec legacy_format{"format", ParamType::String, "",
                          "v0.12 style format type; prefer <format @type>."};
  legacy_format.has_default = false;
  ParamSpec relative{"symlink_path_use_relative", ParamType::Bool, "false", "Accepted; ignored."};
  relative.ignored = true;
  ParamSpec recompress{"recompress", ParamType::Bool, "false",
                       "Accepted; chunks are always compressed when written."};
  recompress.ignored = true;
  spec.params = {
      path,
      {"append", ParamType::Bool, "false",
       "Append each flush to one file per path instead of a new `_<index>` file per chunk."},
      {"compress", ParamType::Enum, "text", "text or gzip (adds .gz).", {"text", "gz", "gzip"}},
      {"add_path_suffix", ParamType::Bool, "true", "Add path_suffix to file names."},
      {"path_suffix", ParamType::String, ".log", "Suffix of file names."},
      {"file_perm", ParamType::String, "0644", "Mode of created files (octal)."},
      {"dir_perm", ParamType::String, "0755", "Mode of created directories (octal)."},
      symlink,
      relative,
      recompress,
      legacy_format,
  };
  registry.add_output(std::move(spec), build);
}

}  // namespace sluice
