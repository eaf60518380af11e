// `@type systemd`: reads the systemd journal (fluent-plugin-systemd's in_systemd) with sd-journal.
// One record per journal entry, its fields as strings, timed by __REALTIME_TIMESTAMP. The cursor of
// the last entry the outputs acknowledged is kept in `<storage> path` as {"journal": "<cursor>"}
// (written atomically), so a restart continues after it.
#include <fcntl.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <string>

#include "core/delivery.h"
#include "core/log.h"
#include "core/registry.h"
#include "core/uv_handle.h"
#include "systemd_config.h"

namespace sluice {

namespace {

constexpr size_t kMaxFieldBytes = 64 * 1024;  // per field value; journal data is untrusted
constexpr size_t kMaxFieldsPerEntry = 1024;
constexpr int kMaxEntriesPerTurn = 1000;
constexpr uint64_t kPollMs = 1000;

PluginSpec storage_spec() {
  PluginSpec s{"storage", "local", "fluent-plugin-systemd's cursor storage", {}, {}};
  s.params = {
      spec::with_default("persistent", ParamType::Bool, "false", "Write the cursor to `path`."),
      spec::optional("path", ParamType::String, "The cursor file."),
  };
  return s;
}

PluginSpec entry_spec() {
  PluginSpec s{"entry", "entry", "fluent-plugin-systemd's <entry> mutator", {}, {}};
  s.params = {
      spec::optional("field_map", ParamType::String, "JSON hash: source field -> new name(s)."),
      spec::with_default("field_map_strict", ParamType::Bool, "false", "Keep only mapped fields."),
      spec::with_default("fields_strip_underscores", ParamType::Bool, "false", "Strip leading underscores."),
      spec::with_default("fields_lowercase", ParamType::Bool, "false", "Lowercase field names."),
  };
  return s;
}

std::string read_small(const std::string& path, size_t max) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string out;
  char buf[4096];
  ssize_t n;
  while (out.size() < max && (n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

}  // namespace

class SystemdInput : public Input {
 public:
  SystemdInput(PluginContext& ctx, const Params& p)
      : ctx_(ctx),
        id_(ctx.id),
        records_(ctx.counter("sluice_systemd_records_total")),
        truncated_(ctx.counter("sluice_systemd_truncated_fields_total")) {
    tag_ = p.str("tag");
    path_ = p.str("path");
    read_from_head_ = p.flag("read_from_head");
    std::string matches_text = p.has("matches") ? p.str("matches") : std::string();
    if (p.has("filters")) {
      log::warn("[" + id_ + "] `filters` is deprecated (as in fluent-plugin-systemd): use `matches`");
      if (matches_text.empty()) matches_text = p.str("filters");
    }
    if (!matches_text.empty() && matches_text != "[]") {
      try {
        matches_ = systemd::parse_matches(matches_text);
      } catch (const std::exception& e) {
        throw ConfigException(p.pos(p.has("matches") ? "matches" : "filters"), e.what());
      }
    }

    systemd::EntryMutator::Options mo;
    mo.strip_underscores = p.flag("strip_underscores");
    if (p.has("strip_underscores"))
      log::warn("[" + id_ + "] `strip_underscores` is deprecated: use <entry> fields_strip_underscores");
    const ConfigSection& sec = p.section();
    for (auto& c : sec.children) {
      if (c.name == "entry") {
        static const PluginSpec es = entry_spec();
        check(c, es);
        Params ep(c, es);
        if (ep.has("field_map")) {
          try {
            mo.field_map = systemd::EntryMutator::parse_field_map(ep.str("field_map"));
          } catch (const std::exception& e) {
            throw ConfigException(ep.pos("field_map"), e.what());
          }
        }
        mo.field_map_strict = ep.flag("field_map_strict");
        mo.strip_underscores = mo.strip_underscores || ep.flag("fields_strip_underscores");
        mo.lowercase = ep.flag("fields_lowercase");
        if (mo.field_map_strict && mo.field_map.empty())
          throw ConfigException(c.pos, "field_map_strict true needs a field_map");
      } else if (c.name == "storage") {
        static const PluginSpec ss = storage_spec();
        check(c, ss);
        Params sp(c, ss);
        std::string type = c.get("@type", "local");
        if (type != "local")
          throw ConfigException(c.pos, "<storage> @type '" + type + "' is not supported (only local)");
        if (sp.flag("persistent")) {
          if (!sp.has("path")) throw ConfigException(c.pos, "<storage> persistent true needs a path");
          cursor_file_ = sp.str("path");
        }
      }
    }
    mutator_ = std::make_unique<systemd::EntryMutator>(std::move(mo));
    if (cursor_file_.empty() && !ctx.dry_run)
      log::warn("[" + id_ + "] no persistent <storage>: the journal cursor is not kept across restarts");
    tracker_.on_commit = [this](uint64_t seq) { committed(seq); };
  }

  ~SystemdInput() override {
    stop();
    close_journal();
  }

  void start() override {
    if (ctx_.dry_run) return;
    if (ctx_.worker_id != 0) return;  // one reader per node: the journal is not sharded across workers
    if (!cursor_file_.empty()) {
      if (auto c = systemd::cursor_from_file_text(read_small(cursor_file_, 1 << 16))) saved_cursor_ = *c;
    }
    timer_ = new_uv_handle<uv_timer_t>(this);
    uv_timer_init(ctx_.loop, timer_);
    auto alive = alive_;
    ctx_.flow->on_resume([this, alive] {
      if (*alive && timer_ && !stopped_) uv_timer_start(timer_, on_timer, 0, kPollMs);
    });
    uv_timer_start(timer_, on_timer, 0, kPollMs);
  }

  void stop() override {
    if (stopped_) return;
    stopped_ = true;
    *alive_ = false;
    close_uv_handle(timer_);
  }

  void finish() override { save_cursor(); }

  bool at_eof() const override { return at_eof_; }

 private:
  void check(const ConfigSection& c, const PluginSpec& spec) {
    auto errs = validate_params(c, spec);
    if (errs.empty()) return;
    if (ctx_.errors) {
      for (size_t i = 1; i < errs.size(); ++i) ctx_.errors->push_back(errs[i]);
    }
    throw ConfigException(errs[0].pos, errs[0].message);
  }

  static void on_timer(uv_timer_t* t) {
    if (auto* self = static_cast<SystemdInput*>(t->data)) self->tick();
  }

  bool open_journal() {
    struct stat st;
    if (::stat(path_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      at_eof_ = true;
      log::warn_once(id_ + ":nodir", "[" + id_ + "] journal directory " + path_ +
                                         " does not exist (or is not a directory); waiting for it");
      return false;
    }
    int r = sd_journal_open_directory(&j_, path_.c_str(), 0);
    if (r < 0) {
      j_ = nullptr;
      at_eof_ = true;
      log::warn_once(id_ + ":open", "[" + id_ + "] cannot open journal " + path_ + ": " + std::strerror(-r));
      return false;
    }
    sd_journal_set_data_threshold(j_, kMaxFieldBytes);
    for (size_t g = 0; g < matches_.size(); ++g) {
      if (g > 0) sd_journal_add_disjunction(j_);
      for (auto& term : matches_[g]) sd_journal_add_match(j_, term.data(), term.size());
    }
    // Starts inotify watching, so files created later (rotation, new boots) are seen.
    if (sd_journal_get_fd(j_) < 0)
      log::warn_once(id_ + ":fd", "[" + id_ + "] cannot watch " + path_ + " for new journal files");
    seek();
    log::info("[" + id_ + "] reading journal " + path_);
    return true;
  }

  void seek() {
    if (!saved_cursor_.empty()) {
      if (sd_journal_seek_cursor(j_, saved_cursor_.c_str()) >= 0) {
        int r = sd_journal_next(j_);
        if (r > 0 && sd_journal_test_cursor(j_, saved_cursor_.c_str()) > 0) return;  // already shipped
        if (r > 0) sd_journal_previous(j_);  // the cursor's entry is gone: start at the next one
        return;
      }
      log::warn("[" + id_ + "] cannot seek to the saved cursor; reading from the " +
                (read_from_head_ ? "head" : "tail"));
    }
    if (read_from_head_) {
      sd_journal_seek_head(j_);
    } else {
      sd_journal_seek_tail(j_);
      sd_journal_previous(j_);  // on the last entry: the next one read is new
    }
  }

  void close_journal() {
    if (j_) sd_journal_close(j_);
    j_ = nullptr;
  }

  void tick() {
    if (stopped_) return;
    if (!j_ && !open_journal()) return;
    if (ctx_.flow->blocked()) return;  // resumed by on_resume
    // Takes in files added or removed since the last turn (inotify); sd-journal keeps its
    // position across both, so there is nothing to reseek.
    sd_journal_process(j_);
    read_entries();
  }

  void read_entries() {
    for (int turns = 0; turns < 64 && !stopped_ && !ctx_.flow->blocked(); ++turns) {
      batch_.clear();
      batch_.tag = tag_;
      batch_.source_path = path_;
      batch_.stream_id = stream_id_;
      std::string last_cursor;
      int n = 0;
      for (; n < kMaxEntriesPerTurn; ++n) {
        int r = sd_journal_next(j_);
        if (r < 0) {
          log::warn_once(id_ + ":read", "[" + id_ + "] reading the journal failed: " + std::strerror(-r));
          break;
        }
        if (r == 0) break;
        char* cur = nullptr;
        if (sd_journal_get_cursor(j_, &cur) < 0 || !cur) continue;  // cannot be resumed from: skipped
        last_cursor = cur;
        std::free(cur);
        add_entry(fnv1a(last_cursor));
      }
      at_eof_ = n < kMaxEntriesPerTurn;
      if (batch_.records.empty()) return;
      uint64_t seq = ++seq_;
      pending_.emplace_back(seq, last_cursor);
      batch_.claim = tracker_.open(seq);
      Claim* claim = batch_.claim;
      size_t count = batch_.records.size();
      ctx_.emitter->emit(batch_);
      bump(records_, count);
      claim->release();
      if (at_eof_) return;
    }
    // More to read: come back on the next loop turn rather than hold the loop.
    if (!stopped_ && timer_ && !ctx_.flow->blocked()) uv_timer_start(timer_, on_timer, 0, kPollMs);
  }

  // A record's offset identifies its entry (for deterministic document ids): the cursor, hashed.
  static uint64_t fnv1a(std::string_view s) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return h;
  }

  void add_entry(uint64_t id) {
    uint64_t usec = 0;
    EventTime time;
    if (sd_journal_get_realtime_usec(j_, &usec) >= 0) {
      time.sec = static_cast<int64_t>(usec / 1000000);
      time.nsec = static_cast<uint32_t>((usec % 1000000) * 1000);
    }
    fields_.clear();
    const void* data;
    size_t len;
    sd_journal_restart_data(j_);
    while (sd_journal_enumerate_data(j_, &data, &len) > 0) {
      std::string_view d(static_cast<const char*>(data), len);
      size_t eq = d.find('=');
      if (eq == std::string_view::npos || eq == 0) continue;
      std::string_view key = d.substr(0, eq), value = d.substr(eq + 1);
      if (value.size() > kMaxFieldBytes) {
        value = value.substr(0, kMaxFieldBytes);
        bump(truncated_, 1);
      }
      bool dup = false;
      for (auto& f : fields_)
        if (f.first == key) {
          f.second = value;  // the last value wins, as in the Ruby hash
          dup = true;
        }
      if (dup) continue;
      if (fields_.size() >= kMaxFieldsPerEntry) continue;
      fields_.emplace_back(key, value);
    }
    // sd-journal's data pointers are valid only until the next call: copy into the batch arena.
    batch_.begin_record(time, id);
    if (mutator_->identity()) {
      for (auto& [k, v] : fields_)
        batch_.add_field(batch_.arena.copy(k), Value::of_string(batch_.arena.copy(v)));
    } else {
      for (auto& [k, v] : mutator_->run(fields_, storage_))
        batch_.add_field(batch_.arena.copy(k), Value::of_string(batch_.arena.copy(v)));
    }
  }

  void committed(uint64_t seq) {
    while (!pending_.empty() && pending_.front().first <= seq) {
      latest_committed_ = std::move(pending_.front().second);
      pending_.pop_front();
    }
    save_cursor();
  }

  void save_cursor() {
    if (cursor_file_.empty() || ctx_.dry_run || latest_committed_.empty() || latest_committed_ == written_) return;
    std::string text = systemd::cursor_file_text(latest_committed_);
    std::string tmp = cursor_file_ + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      log::warn_once(id_ + ":cursor", "[" + id_ + "] cannot write " + tmp + ": " + std::strerror(errno));
      return;
    }
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ok = ::fsync(fd) == 0 && ok;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), cursor_file_.c_str()) != 0) {
      log::warn_once(id_ + ":cursor", "[" + id_ + "] cannot write " + cursor_file_);
      return;
    }
    written_ = latest_committed_;
  }

  PluginContext ctx_;
  std::string id_;
  Counter& records_;
  Counter& truncated_;
  std::string tag_, path_, cursor_file_;
  std::string stream_id_ = "journal";
  bool read_from_head_ = false;
  systemd::MatchGroups matches_;
  std::unique_ptr<systemd::EntryMutator> mutator_;
  sd_journal* j_ = nullptr;
  uv_timer_t* timer_ = nullptr;
  bool stopped_ = false;
  bool at_eof_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  Batch batch_;
  std::vector<std::pair<std::string_view, std::string_view>> fields_;
  std::vector<std::string> storage_;
  DeliveryTracker tracker_;
  uint64_t seq_ = 0;
  std::deque<std::pair<uint64_t, std::string>> pending_;  // seq -> cursor of the batch's last entry
  std::string saved_cursor_, latest_committed_, written_;
};

void register_in_systemd(Registry& registry) {
  PluginSpec spec{"input", "systemd",
                  "Reads the systemd journal (fluent-plugin-systemd's in_systemd): one record per entry, "
                  "filtered by `matches`, resumed from the cursor in <storage>.",
                  {}, {"storage", "entry"}};
  spec.params = {
      spec::with_default("path", ParamType::String, "/var/log/journal", "Journal directory."),
      spec::optional("matches", ParamType::String,
                     "JSON array of hashes: fields ANDed within a hash, hashes ORed; a value may be an array."),
      spec::optional("filters", ParamType::String, "Deprecated name of `matches`."),
      spec::with_default("read_from_head", ParamType::Bool, "false",
                         "Without a saved cursor, start at the oldest entry (else at new ones)."),
      spec::with_default("strip_underscores", ParamType::Bool, "false",
                         "Deprecated: <entry> fields_strip_underscores."),
  };
  ParamSpec tag = spec::optional("tag", ParamType::String, "Tag of the records.");
  tag.required = true;
  spec.params.push_back(tag);
  registry.add_input(spec, [](PluginContext& ctx, const Params& params) {
    return std::make_unique<SystemdInput>(ctx, params);
  });
}

}  // namespace sluice
