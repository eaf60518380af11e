// The file buffer's disk side: chunk files written (zstd, tmp + fsync + rename) and read back on
// libuv's thread pool, and chunk files of an earlier run resumed at start.
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "buffer/buffer.h"
#include "buffer/chunk_file.h"
#include "core/log.h"

namespace sluice::buffer {

struct Buffer::Work {
  uv_work_t req;
  Buffer* self;
  std::shared_ptr<bool> alive;
  std::shared_ptr<Chunk> chunk;  // keeps the payload alive while a thread reads it
  std::string path;
  void (*job)(Work&);                   // on the thread pool
  void (Buffer::*done)(Work&, bool ok);  // on the loop thread, unless the buffer is gone
  bool ok = false;
  std::string error;
  std::string loaded;
  std::shared_ptr<Secondary> secondary;  // for write_to_secondary: outlives the buffer if need be
  std::function<bool(const Chunk&, std::string&)> secondary_payload;
};

// The file name of chunk `id` in the directory `dir`.
static std::string chunk_file(const std::string& dir, uint64_t id) {
  char name[64];
  snprintf(name, sizeof name, "/%s%016llx%s", kChunkPrefix, (unsigned long long)id, kChunkSuffix);
  return dir + name;
}

std::string Buffer::chunk_path(uint64_t id) const { return chunk_file(config_.path, id); }

// The chunk files in `dir`, decoded (payloads are read when sent). Files of an interrupted
// write are removed (their records were never released); corrupt ones renamed aside.
void Buffer::resume_chunks_in(const std::string& dir, bool own, std::vector<std::shared_ptr<Chunk>>& out) {
  std::vector<std::string> found;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name.rfind(kChunkPrefix, 0) != 0) continue;
      std::string full = dir + "/" + name;
      if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0) {
        ::unlink(full.c_str());
        continue;
      }
      found.push_back(full);
    }
    ::closedir(d);
  }
  for (auto& path : found) {
    std::string head, err;
    if (!read_file(path, head, 4096, err)) {
      log::error("file buffer: " + err);
      continue;
    }
    auto c = std::make_shared<Chunk>();
    if (!decode_chunk_file(head, *c, false, err)) {
      log::error("file buffer: " + path + ": " + err + "; renamed to .corrupt");
      ::rename(path.c_str(), (path + ".corrupt").c_str());
      continue;
    }
    if (path != chunk_file(dir, c->id)) {
      log::warn("file buffer: " + path + " does not match its chunk id; skipped");
      continue;
    }
    if (!own) c->file = path;  // its id is given anew: another directory's ids may repeat ours
    c->state = Chunk::State::Queued;
    c->resident = false;
    c->on_disk = true;
    c->created_at = now();
    out.push_back(c);
  }
}

// Chunk files left by an earlier run: queued again, in id order, then those of directories
// other workers' runs left.
void Buffer::resume_from_disk() {
  std::string error;
  if (!mkdirs(config_.path, error)) throw std::runtime_error("file buffer: " + error);
  std::vector<std::shared_ptr<Chunk>> chunks, adopted;
  resume_chunks_in(config_.path, true, chunks);
  std::sort(chunks.begin(), chunks.end(), [](auto& a, auto& b) { return a->id < b->id; });
  for (auto& c : chunks) next_id_ = std::max(next_id_, c->id + 1);
  for (auto& dir : config_.adopt_dirs) {
    size_t before = adopted.size();
    resume_chunks_in(dir, false, adopted);
    if (adopted.size() > before)
      log::info("file buffer " + config_.path + ": taking over " + std::to_string(adopted.size() - before) +
                " chunks from " + dir);
  }
  for (auto& c : adopted) {
    c->id = next_id_++;
    chunks.push_back(c);
  }
  uint64_t resumed_records = 0;
  for (auto& c : chunks) {
    total_bytes_ += c->bytes;
    resumed_records += c->records;
    queue_.push_back(c.get());
    all_.emplace(c->id, c);
  }
  if (!chunks.empty())
    log::info("file buffer " + config_.path + ": resuming " + std::to_string(chunks.size()) +
              " chunks (" + std::to_string(resumed_records) + " records) for " + id_);
}

void Buffer::queue_disk_work(Chunk* c, void (*job)(Work&), void (Buffer::*done)(Work&, bool),
                             std::shared_ptr<Secondary> secondary) {
  auto* w = new Work{{}, this, alive_, all_.at(c->id), file_of(*c), job, done};
  w->secondary = std::move(secondary);
  w->secondary_payload = hooks_.secondary_payload;
  w->req.data = w;
  ++pending_io_;
  uv_queue_work(
      loop_, &w->req,
      [](uv_work_t* req) {
        auto* w = static_cast<Work*>(req->data);
        w->job(*w);
      },
      [](uv_work_t* req, int status) {
        std::unique_ptr<Work> w(static_cast<Work*>(req->data));
        if (!*w->alive) return;
        w->self->pending_io_--;
        (w->self->*w->done)(*w, w->ok && status == 0);
      });
}

void Buffer::persist(Chunk* c) {
  c->state = Chunk::State::Persisting;
  queue_disk_work(
      c,
      [](Work& w) {
        std::string bytes = encode_chunk_file(*w.chunk, 1);
        if (bytes.empty()) {
          w.error = "compression failed";
          return;
        }
        w.ok = write_file_durably(w.path, bytes, w.error);
      },
      &Buffer::on_persisted);
}

void Buffer::on_persisted(Work& w, bool ok) {
  Chunk* c = w.chunk.get();
  if (c->state == Chunk::State::Done) return;
  if (ok) {
    c->on_disk = true;
    // Durable now: the sources may move on (see the header comment).
    release_claims(c);
  } else {
    log::error("file buffer " + config_.path + ": could not write chunk: " + w.error +
               "; keeping it in memory (its records stay unacknowledged)");
  }
  c->state = Chunk::State::Queued;
  if (c->resident && c->on_disk) {
    resident_bytes_ += c->bytes;
    evict_if_needed(c);
  }
  pump();
  check_overflow();
  update_gauges();
  maybe_finish_close();
}

void Buffer::evict_if_needed(Chunk* c) {
  if (!c->on_disk || !c->resident || resident_bytes_ <= config_.resident_limit) return;
  if (c->state != Chunk::State::Queued) return;
  resident_bytes_ -= c->bytes;
  std::string().swap(c->payload);
  c->resident = false;
}

void Buffer::load(Chunk* c) {
  c->state = Chunk::State::Loading;
  queue_disk_work(
      c,
      [](Work& w) {
        std::string bytes;
        if (!read_file(w.path, bytes, size_t(1) << 40, w.error)) return;
        Chunk tmp;
        if (!decode_chunk_file(bytes, tmp, true, w.error)) return;
        w.loaded = std::move(tmp.payload);
        w.ok = true;
      },
      &Buffer::on_loaded);
}

void Buffer::on_loaded(Work& w, bool ok) {
  loading_ = false;
  Chunk* c = w.chunk.get();
  if (c->state == Chunk::State::Done) return;
  c->state = Chunk::State::Queued;
  if (ok) {
    c->payload = std::move(w.loaded);
    c->resident = true;
    resident_bytes_ += c->bytes;
  } else {
    log::error("file buffer " + config_.path + ": cannot read chunk " + w.path + ": " + w.error +
               "; renamed to .corrupt");
    ::rename(w.path.c_str(), (w.path + ".corrupt").c_str());
    c->on_disk = false;
    if (hooks_.give_up) hooks_.give_up(*c, "unreadable chunk file: " + w.error);
    finish_chunk(c, false);
  }
  pump();
  maybe_finish_close();
}

// A chunk retries gave up on, to the <secondary>, on the thread pool (a file write and fsync):
// read back from its chunk file first when it is not in memory. Out of the queue meanwhile.
void Buffer::write_to_secondary(Chunk* c, std::shared_ptr<Secondary> to) {
  remove_from_queue(c);
  c->state = Chunk::State::Persisting;
  queue_disk_work(
      c,
      [](Work& w) {
        const Chunk* chunk = w.chunk.get();
        Chunk copy;
        if (!chunk->resident) {
          std::string bytes;
          if (!read_file(w.path, bytes, size_t(1) << 40, w.error) || !decode_chunk_file(bytes, copy, true, w.error))
            return;
          chunk = &copy;
        }
        Chunk converted;
        if (w.secondary_payload) {
          converted.id = chunk->id;
          converted.tag = chunk->tag;
          converted.timekey = chunk->timekey;
          converted.variant = chunk->variant;
          converted.records = chunk->records;
          if (!w.secondary_payload(*chunk, converted.payload)) {
            w.error = std::move(converted.payload);
            return;
          }
          converted.bytes = converted.payload.size();
          chunk = &converted;
        }
        w.ok = w.secondary->write(*chunk, w.loaded);
        if (!w.ok) w.error = std::move(w.loaded);
      },
      &Buffer::on_secondary_written, std::move(to));
}

void Buffer::on_secondary_written(Work& w, bool ok) {
  Chunk* c = w.chunk.get();
  if (c->state == Chunk::State::Done) return;
  if (ok) {
    bump(*m_secondary_records_, c->records);
    log::warn("output " + id_ + ": wrote a chunk of " + std::to_string(c->records) + " records to " + w.loaded);
    finish_chunk(c, true);
  } else {
    log::error("output " + id_ + ": <secondary> could not take a chunk of " + std::to_string(c->records) +
               " records: " + w.error);
    if (hooks_.give_up) hooks_.give_up(*c, "<secondary> failed: " + w.error);
    finish_chunk(c, false);
  }
  check_overflow();
  update_gauges();
  pump();
  maybe_finish_close();
}

namespace {

// Fluentd's Buffer#backup: the chunk's bytes appended to `<dir>/<chunk id>.log`.
class BackupWriter : public Secondary {
 public:
  explicit BackupWriter(std::string dir) : dir_(std::move(dir)) {}
  bool write(const Chunk& chunk, std::string& where) override {
    char name[40];
    snprintf(name, sizeof name, "/%016llx.log", (unsigned long long)chunk.id);
    const std::string path = dir_ + name;
    std::string error;
    if (!mkdirs(dir_, error)) {
      where = error;
      return false;
    }
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    int err = fd < 0 ? errno : write_fully(fd, chunk.payload);
    if (err == 0 && ::fsync(fd) != 0) err = errno;
    if (fd >= 0) ::close(fd);
    if (err != 0) {
      where = "the backup file " + path + ": " + strerror(err);
      return false;
    }
    where = "the backup file " + path + " (bad chunk is moved there)";
    return true;
  }

 private:
  std::string dir_;
};

}  // namespace

std::shared_ptr<Secondary> Buffer::make_backup_writer(const std::string& dir) {
  return std::make_shared<BackupWriter>(dir);
}

}  // namespace sluice::buffer
