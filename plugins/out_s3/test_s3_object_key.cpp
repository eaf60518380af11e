// Object keys as out_s3.rb's write makes them, bodies as its compressors make them, and what is
// taken from S3's error documents.
#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include "http/aws_sigv4.h"
#include "s3_body.h"
#include "s3_object_key.h"
#include "s3_response.h"

namespace sluice::s3 {
namespace {

constexpr int64_t k20240501T120000Z = 1714564800;
constexpr std::string_view kChunkId = "5f1e2d3c4b5a69788796a5b4c3d2e1f0";

ChunkKeyInput input(std::string_view tag = "app.web") {
  ChunkKeyInput in;
  in.tag = tag;
  in.timekey = k20240501T120000Z;
  in.chunk_id = kChunkId;
  in.uuid = "2f8b9e0c-1d2a-4b3c-8d4e-5f6a7b8c9d0e";
  in.now = k20240501T120000Z + 3723;  // 13:02:03
  return in;
}

std::string key_of(KeyFormatOptions o, int index = 0, ChunkKeyInput in = input()) {
  std::string out, error;
  EXPECT_TRUE(ObjectKeyFormat(std::move(o)).key(in, index, out, error)) << error;
  return out;
}

KeyFormatOptions daily(std::string path) {
  KeyFormatOptions o;
  o.path = std::move(path);
  o.key_time = true;
  o.utc = true;
  return o;
}

TEST(S3ObjectKey, DefaultFormatWithTheTimeSliceOfTheTimekey) {
  EXPECT_EQ(key_of(daily("logs/")), "logs/20240501_0.gz");
  EXPECT_EQ(key_of(daily("logs/"), 7), "logs/20240501_7.gz");
  KeyFormatOptions hourly = daily("logs/");
  hourly.timekey = 3600;
  EXPECT_EQ(key_of(hourly), "logs/2024050112_0.gz");
  hourly.time_slice_format = "%Y-%m-%d/%H";  // the compat parameter wins over the timekey's format
  EXPECT_EQ(key_of(hourly), "logs/2024-05-01/12_0.gz");
}

TEST(S3ObjectKey, PathPlaceholdersStrftimeTagAndChunkId) {
  KeyFormatOptions o = daily("logs/${tag}/%Y/%m/%d/");
  o.key_tag = true;
  o.format = "%{path}${tag[-1]}-%{time_slice}_%{index}_${chunk_id}.%{file_extension}";
  EXPECT_EQ(key_of(o), "logs/app.web/2024/05/01/web-20240501_0_" + std::string(kChunkId) + ".gz");
  // Without a time chunk key there is no strftime and no time slice.
  KeyFormatOptions plain;
  plain.path = "logs/%Y/";
  EXPECT_EQ(key_of(plain), "logs/%Y/_0.gz");
}

TEST(S3ObjectKey, HexRandomUuidFlushIndexFormatAndUnknownPlaceholders) {
  KeyFormatOptions o = daily("p/");
  o.format = "%{path}%{hex_random}/%{uuid_flush}/%{index}%{unknown}.%{file_extension}";
  o.index_format = "%03x";
  EXPECT_EQ(key_of(o, 10), "p/0f1e/2f8b9e0c-1d2a-4b3c-8d4e-5f6a7b8c9d0e/00a.gz");
  EXPECT_EQ(hex_random(kChunkId, 6), "0f1e2d");
}

TEST(S3ObjectKey, WithoutCheckObjectHmsSliceAndNoIndex) {
  KeyFormatOptions o = daily("logs");
  o.check_object = false;
  o.format = "%{path}/%{time_slice}_%{hms_slice}.%{file_extension}";  // the plugin's default then
  EXPECT_EQ(key_of(o), "logs/20240501_130203.gz");
  o.format = "%{path}/%{date_slice}_%{index}.%{file_extension}";
  EXPECT_EQ(key_of(o), "logs/20240501_.gz");
}

TEST(S3ObjectKey, ATagThatWouldLeaveThePathIsRefused) {
  KeyFormatOptions o = daily("logs/${tag}/");
  o.key_tag = true;
  std::string out, error;
  EXPECT_FALSE(ObjectKeyFormat(o).key(input("a/../../etc"), 0, out, error));
  EXPECT_EQ(error, "Invalid path component detected in tag: a/../../etc");
  EXPECT_TRUE(ObjectKeyFormat(o).key(input("a..b"), 0, out, error));
}

TEST(S3ObjectKey, IndexFormatsTheRubyPluginAccepts) {
  for (const char* ok : {"%d", "%x", "%X", "%05d", "%0x", "%010X"}) EXPECT_TRUE(valid_index_format(ok)) << ok;
  for (const char* bad : {"", "%s", "%5d", "%-5d", "d", "%d%d", "%05.2d", "%n"})
    EXPECT_FALSE(valid_index_format(bad)) << bad;
}

std::string gunzip(const std::string& in) {
  z_stream zs{};
  inflateInit2(&zs, 15 + 16);
  std::string out(1 << 20, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = uInt(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = uInt(out.size());
  EXPECT_EQ(inflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  return out;
}

TEST(S3Body, GzipAndZstdRoundTrip) {
  std::string lines;
  for (int i = 0; i < 1000; ++i)
    lines += "2024-05-01T12:00:00+00:00\tapp\t{\"message\":\"line " + std::to_string(i) + "\"}\n";
  std::string gz, zst;
  ASSERT_TRUE(compress(Store::Gzip, 3, lines, gz));
  EXPECT_LT(gz.size(), lines.size() / 4);
  EXPECT_EQ(gunzip(gz), lines);
  ASSERT_TRUE(compress(Store::Zstd, 3, lines, zst));
  std::string back(lines.size(), '\0');
  EXPECT_EQ(ZSTD_decompress(back.data(), back.size(), zst.data(), zst.size()), lines.size());
  EXPECT_EQ(back, lines);
}

TEST(S3Body, MadeLaterOnTheLoopOrTheThreadPoolWithTheHashOfWhatIsSent) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  auto alive = std::make_shared<bool>(true);
  std::string big;
  while (big.size() < 3 * kOnLoopBytes)
    big += "2024-05-01T12:00:00+00:00\tapp\t{\"n\":" + std::to_string(big.size()) + "}\n";
  const std::string small = "one line\n";
  int calls = 0;
  Body gz, text;
  make_body(&loop, Store::Gzip, 3, big, alive, [&](Body b) { gz = std::move(b), ++calls; });
  make_body(&loop, Store::Text, 3, small, alive, [&](Body b) { text = std::move(b), ++calls; });
  EXPECT_EQ(calls, 0);  // never from inside the call
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(gunzip(gz.compressed), big);
  EXPECT_EQ(gz.sha256, http::aws::hex_sha256(gz.compressed));
  EXPECT_TRUE(text.compressed.empty());  // sent from the chunk as it is
  EXPECT_EQ(text.sha256, http::aws::hex_sha256(small));
  // An output gone meanwhile hears nothing.
  *alive = false;
  make_body(&loop, Store::Zstd, 3, big, alive, [&](Body) { ++calls; });
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(calls, 2);
  uv_loop_close(&loop);
}

TEST(S3Response, CodeAndMessageOnlyNeverTheEchoedCanonicalRequest) {
  http::HttpResponse r;
  r.status = 403;
  r.body =
      "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we "
      "calculated does not match the signature you provided. Check your key &amp; signing method.</Message>"
      "<CanonicalRequest>PUT\n/logs/x\n\nx-amz-security-token:SECRET-SESSION-TOKEN\n</CanonicalRequest></"
      "Error>";
  EXPECT_EQ(error_code(r), "SignatureDoesNotMatch");
  const std::string d = describe(r);
  EXPECT_EQ(d.find("SECRET-SESSION-TOKEN"), std::string::npos) << d;
  EXPECT_NE(d.find("HTTP 403 SignatureDoesNotMatch: \"The request signature"), std::string::npos) << d;
  EXPECT_NE(d.find("key & signing"), std::string::npos) << d;
  r.body = "<Error><Code>Slow<Down></Code></Error>";  // not a code: left out
  EXPECT_EQ(describe(r), "HTTP 403");
  r.body = std::string(1 << 20, 'x');
  EXPECT_EQ(describe(r), "HTTP 403");
  r.error = "Failed to connect to 127.0.0.1 port 1";
  EXPECT_EQ(describe(r), "Failed to connect to 127.0.0.1 port 1");
}

}  // namespace
}  // namespace sluice::s3
