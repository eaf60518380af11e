#include "tail_input.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/log.h"
#include "core/registry.h"
#include "core/uv_handle.h"
#include "shard_table.h"

namespace sluice {

namespace {
std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  int depth = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && s[i] == '{') ++depth;
    if (i < s.size() && s[i] == '}' && depth > 0) --depth;
    if (i == s.size() || (s[i] == ',' && depth == 0)) {
      std::string part = s.substr(start, i - start);
      size_t a = part.find_first_not_of(" \t"), b = part.find_last_not_of(" \t");
      if (a != std::string::npos) out.push_back(part.substr(a, b - a + 1));
      start = i + 1;
    }
  }
  return out;
}

}  // namespace

TailInput::TailInput(PluginContext& ctx, const Params& params)
    : ctx_(ctx),
      records_(ctx.counter("sluice_input_records_total")),
      bytes_(ctx.counter("sluice_input_bytes_total")),
      truncated_lines_(ctx.counter("sluice_input_truncated_lines_total")),
      rotations_(ctx.counter("sluice_input_rotations_total")),
      files_moved_(ctx.counter("sluice_input_files_moved_total")) {
  config_.paths = split_commas(params.str("path"));
  if (config_.paths.empty()) throw ConfigException(params.pos("path"), "'path' is empty");
  for (auto& p : params.list("exclude_path")) config_.exclude_paths.push_back(p);
  std::string tag = params.str("tag");
  size_t star = tag.find('*');
  if (star != std::string::npos) {
    config_.tag_expands = true;
    config_.tag_prefix = tag.substr(0, star);
    config_.tag_suffix = tag.substr(star + 1);
  } else {
    config_.fixed_tag = tag;
  }
  if (params.has("pos_file")) config_.pos_file = params.str("pos_file");
  config_.read_from_head = params.flag("read_from_head");
  config_.refresh_interval = params.seconds("refresh_interval");
  config_.rotate_wait = params.seconds("rotate_wait");
  config_.pos_write_interval = params.seconds("pos_write_interval");
  config_.enable_watch_timer = params.flag("enable_watch_timer");
  config_.enable_stat_watcher = params.flag("enable_stat_watcher");
  if (!config_.enable_watch_timer && !config_.enable_stat_watcher)
    throw ConfigException(ctx.section->pos,
                          "either enable_watch_timer or enable_stat_watcher must be true");
  if (params.has("path_key")) config_.path_key = params.str("path_key");
  config_.read_block_size = std::max<uint64_t>(4096, params.size("read_block_size"));
  config_.max_line_size = params.size("max_line_size");
  if (config_.max_line_size && config_.max_line_size < config_.read_block_size)
    config_.read_block_size = std::max<size_t>(config_.max_line_size, 1024);
  config_.read_bytes_limit_per_second = params.integer("read_bytes_limit_per_second");
  if (params.has("limit_recently_modified"))
    config_.limit_recently_modified = params.seconds("limit_recently_modified");
  config_.multiline_flush_interval = params.seconds("multiline_flush_interval");
  config_.fingerprint_identity = params.str("file_identity") == "fingerprint";
  config_.open_files_limit = static_cast<size_t>(std::max<int64_t>(0, params.integer("open_files_limit")));
  if (config_.refresh_interval <= 0)
    throw ConfigException(params.pos("refresh_interval"), "refresh_interval must be > 0");

  parser_ = ctx.make_parser(ctx.section->child("parse"), "");
  if (!config_.pos_file.empty())
    positions_ = std::make_unique<PositionFile>(
        ctx.worker_id == 0 ? config_.pos_file
                           : config_.pos_file + ".worker" + std::to_string(ctx.worker_id));
  // Workers are built one after another before any of them runs: the files this worker's
  // position file knows stay with it, before discovery hands out the others.
  if (ctx.workers > 1) shards_ = &ShardTable::of(ctx.id, ctx.workers);
  if (shards_ && !shards_->same_pos_file(config_.pos_file))
    throw ConfigException(params.pos("pos_file"),
                          "pos_file differs between workers (\"#{worker_id}\" in it?): with several "
                          "workers a tail keeps one file per worker itself (pos_file, "
                          "pos_file.worker1, ...), found from the one path given");
  if (positions_ && shards_) {
    PositionFile own(positions_->path());
    std::string ignored;
    if (own.load(ignored))
      for (auto& [path, entry] : own.entries()) shards_->owner(path, ctx.worker_id);
  }
}

TailInput::~TailInput() { stop_handoffs(); }

bool TailInput::owns(const std::string& path) const {
  return !shards_ || shards_->owner(path) == ctx_.worker_id;
}

std::string TailInput::tag_for(const std::string& path) const {
  if (!config_.tag_expands) return config_.fixed_tag;
  // Fluentd: path with '/' as '.', runs of dots squeezed, no leading dot.
  std::string t;
  t.reserve(path.size());
  for (char c : path) {
    char d = c == '/' ? '.' : c;
    if (d == '.' && (t.empty() || t.back() == '.')) continue;
    t.push_back(d);
  }
  return config_.tag_prefix + t + config_.tag_suffix;
}

void TailInput::start() {
  if (ctx_.dry_run) return;
  started_ = true;
  if (positions_) {
    std::string error;
    if (!positions_->load(error)) log::error(error);
    // With several workers each keeps the positions of its files in its own file; entries
    // written under another worker count (or by another worker before) are taken over.
    // Also with one worker: a run with more workers may have left their files.
    std::vector<std::string> others{config_.pos_file};
    for (int w = 1; w < 64; ++w) others.push_back(config_.pos_file + ".worker" + std::to_string(w));
    for (auto& o : others)
      if (o != positions_->path()) positions_->import_from(o, [this](const std::string& p) { return owns(p); });
  }
  idle_ = new_uv_handle<uv_idle_t>(this);
  uv_idle_init(ctx_.loop, idle_);
  refresh_timer_ = new_uv_handle<uv_timer_t>(this);
  uv_timer_init(ctx_.loop, refresh_timer_);
  auto refresh_ms = static_cast<uint64_t>(config_.refresh_interval * 1000);
  uv_timer_start(refresh_timer_, on_refresh, refresh_ms, refresh_ms);
  watch_timer_ = new_uv_handle<uv_timer_t>(this);
  uv_timer_init(ctx_.loop, watch_timer_);
  // The watch timer also detects rotation, so it runs even when inotify serves appends.
  uv_timer_start(watch_timer_, on_watch_timer, 1000, 1000);
  if (positions_) {
    pos_timer_ = new_uv_handle<uv_timer_t>(this);
    uv_timer_init(ctx_.loop, pos_timer_);
    auto ms = std::max<uint64_t>(10, static_cast<uint64_t>(config_.pos_write_interval * 1000));
    uv_timer_start(pos_timer_, on_pos_timer, ms, ms);
  }
  ctx_.flow->on_resume([this] {
    if (!stopped_ && !ready_.empty()) uv_idle_start(idle_, on_idle);
  });
  discover_soon_ = new_uv_handle<uv_timer_t>(this);
  uv_timer_init(ctx_.loop, discover_soon_);
  watch_directories();
  discover();
  discovered_ = true;
  start_handoffs();
  save_positions();
}

void TailInput::on_pos_timer(uv_timer_t* h) { static_cast<TailInput*>(h->data)->save_positions(); }

bool TailInput::save_positions() {
  if (!positions_) return true;
  drop_handed_over_entries();
  std::string error;
  if (positions_->save(error)) return true;
  log::warn_once("pos:" + positions_->path(), error);
  return false;
}

void TailInput::stop() {
  if (!started_ || stopped_) return;
  for (auto& [p, f] : files_) f->flush_parser();
  for (auto& f : detached_) f->flush_parser();
  stopped_ = true;
  stop_handoffs();
  ready_.clear();
  close_uv_handle(idle_);
  close_uv_handle(refresh_timer_);
  close_uv_handle(watch_timer_);
  close_uv_handle(discover_soon_);
  for (auto*& h : dir_watchers_) close_uv_handle(h);
  for (auto& [p, f] : files_) close_uv_handle(f->watcher);
  for (auto& f : detached_) close_uv_handle(f->watcher);
}

void TailInput::finish() {
  if (!started_) return;
  // Rotated or deleted files that were read and delivered in full need no entry any more.
  for (auto it = detached_.begin(); it != detached_.end();) {
    if ((*it)->at_eof() && (*it)->delivered()) {
      std::string path = (*it)->path();
      it = detached_.erase(it);
      hand_position_to_successor(path);
    } else {
      ++it;
    }
  }
  close_uv_handle(pos_timer_);
  save_positions();
}

bool TailInput::at_eof() const {
  if (!discovered_) return false;
  if (!ready_.empty() || may_receive_file()) return false;
  for (auto& [p, f] : files_)
    if (!f->at_eof()) return false;
  for (auto& f : detached_)
    if (!f->at_eof()) return false;
  return true;
}

void register_in_tail(Registry& registry) {
  PluginSpec spec{"input", "tail", "Follows files matching globs (Fluentd's in_tail).", {}, {"parse"}};
  auto ignored = [](const char* name, ParamType type, const char* def, const char* why) {
    ParamSpec p{name, type, def, why};
    p.ignored = true;
    return p;
  };
  ParamSpec path{"path", ParamType::String, "", "Paths or globs, comma separated."};
  path.required = true;
  path.has_default = false;
  ParamSpec tag{"tag", ParamType::String, "", "Tag; a `*` is replaced by the path with / as ."};
  tag.required = true;
  tag.has_default = false;
  ParamSpec pos{"pos_file", ParamType::String, "", "Position file (Fluentd's format)."};
  pos.has_default = false;
  ParamSpec path_key{"path_key", ParamType::String, "", "Add the file path under this key."};
  path_key.has_default = false;
  ParamSpec recent{"limit_recently_modified", ParamType::Duration, "",
                   "Only follow files modified within this time."};
  recent.has_default = false;
  spec.params = {
      path, tag, pos, path_key, recent,
      {"exclude_path", ParamType::Array, "[]", "Globs of paths not to follow."},
      {"read_from_head", ParamType::Bool, "false",
       "Read files found at start from their beginning (files appearing later always are)."},
      {"refresh_interval", ParamType::Duration, "60", "How often globs are expanded again."},
      {"rotate_wait", ParamType::Duration, "5",
       "How long a rotated or deleted file stays open after it was read to its end."},
      {"pos_write_interval", ParamType::Duration, "1",
       "How often acknowledged positions are written: the most a kill -9 makes us read again."},
      {"enable_watch_timer", ParamType::Bool, "true", "Poll files every second."},
      {"enable_stat_watcher", ParamType::Bool, "true", "Use inotify to see appends at once."},
      {"read_block_size", ParamType::Size, "256k", "Bytes read per block."},
      spec::choice("file_identity", "inode", {"inode", "fingerprint"},
                   "inode: a file is its (device, inode). fingerprint: also recognise a file whose "
                   "first 1 KiB equals a followed file's as its copy (copytruncate into a name "
                   "the glob matches), and read it only from where the original was read to."),
      {"open_files_limit", ParamType::Integer, "0",
       "Most descriptors kept open (0: no limit); idle, fully delivered files give theirs back "
       "and are reopened when they change. Their inotify watch stays."},
      {"max_line_size", ParamType::Size, "0",
       "Longer lines are shipped truncated with `_truncated: true` (0: 32 MiB)."},
      {"read_bytes_limit_per_second", ParamType::Integer, "-1", "Read throttle per input (-1: none)."},
      {"read_lines_limit", ParamType::Integer, "1000", "Accepted; sluice reads by blocks."},
      {"follow_inodes", ParamType::Bool, "false", "Accepted; files are always tracked by inode."},
      ignored("open_on_every_update", ParamType::Bool, "false", "Accepted; files stay open."),
      ignored("pos_file_compaction_interval", ParamType::Duration, "0",
              "Accepted; the position file is compacted on every write."),
      ignored("skip_refresh_on_startup", ParamType::Bool, "false", "Accepted; ignored."),
      {"multiline_flush_interval", ParamType::Duration, "5",
       "Lines a parser holds back (CRI partials, multiline groups) are emitted after this long "
       "without new data in their file."},
      ignored("encoding", ParamType::String, "", "Accepted; bytes are passed through."),
      ignored("from_encoding", ParamType::String, "", "Accepted; bytes are passed through."),
      ignored("emit_unmatched_lines", ParamType::Bool, "false",
              "Accepted; unparsable lines are always kept."),
      ignored("ignore_repeated_permission_error", ParamType::Bool, "false",
              "Accepted; permission errors are logged once per file."),
      ignored("path_timezone", ParamType::String, "", "Accepted; ignored."),
      ignored("file_permission", ParamType::String, "", "Accepted; ignored."),
      ignored("dir_permission", ParamType::String, "", "Accepted; ignored."),
  };
  registry.add_input(spec, [](PluginContext& ctx, const Params& params) {
    return std::make_unique<TailInput>(ctx, params);
  });
}

}  // namespace sluice
