#include "s3_body.h"

#include <zstd.h>

#include <stdexcept>

#include "http/aws_sigv4.h"
#include "http/http_client.h"

namespace sluice::s3 {

namespace {

struct Work {
  uv_work_t req;
  Store store;
  int level;
  std::string_view payload;
  std::weak_ptr<bool> alive;
  std::function<void(Body)> done;
  Body body;
};

void build(Work& w) {
  if (w.store == Store::Gzip || w.store == Store::Zstd) {
    if (!compress(w.store, w.level, w.payload, w.body.compressed)) {
      w.body.error = w.store == Store::Gzip ? "gzip failed" : "zstd compression failed";
      return;
    }
    w.body.sha256 = http::aws::hex_sha256(w.body.compressed);
  } else {
    w.body.sha256 = http::aws::hex_sha256(w.payload);
  }
}

}  // namespace

bool compress(Store store, int zstd_level, std::string_view payload, std::string& out) {
  if (store == Store::Gzip) {
    try {
      out = http::gzip_compress(payload, 6);  // Zlib::GzipWriter's default level
    } catch (const std::exception&) {
      return false;
    }
    return true;
  }
  if (store != Store::Zstd) return false;
  out.resize(ZSTD_compressBound(payload.size()));
  const size_t n = ZSTD_compress(out.data(), out.size(), payload.data(), payload.size(), zstd_level);
  if (ZSTD_isError(n)) return false;
  out.resize(n);
  return true;
}

void make_body(uv_loop_t* loop, Store store, int zstd_level, std::string_view payload,
               std::weak_ptr<bool> alive, std::function<void(Body)> done) {
  auto* w = new Work{{}, store, zstd_level, payload, std::move(alive), std::move(done), {}};
  w->req.data = w;
  if (payload.size() <= kOnLoopBytes) {
    build(*w);
    // Told on the next loop turn, as the thread pool's answer would be.
    auto* idle = new uv_timer_t;
    uv_timer_init(loop, idle);
    idle->data = w;
    uv_timer_start(
        idle,
        [](uv_timer_t* t) {
          std::unique_ptr<Work> w(static_cast<Work*>(t->data));
          uv_close(reinterpret_cast<uv_handle_t*>(t),
                   [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
          if (auto a = w->alive.lock(); a && *a) w->done(std::move(w->body));
        },
        0, 0);
    return;
  }
  uv_queue_work(
      loop, &w->req, [](uv_work_t* req) { build(*static_cast<Work*>(req->data)); },
      [](uv_work_t* req, int status) {
        std::unique_ptr<Work> w(static_cast<Work*>(req->data));
        auto a = w->alive.lock();
        if (!a || !*a) return;
        if (status != 0) w->body.error = "cancelled";
        w->done(std::move(w->body));
      });
}

}  // namespace sluice::s3
