// Tests of wantu.hpp's one-call uploads (progress, cancel, streams, callback
// exceptions) and management calls, against a wantu-server it starts itself
// (see harness.hpp). Build and run as wantu_hpp_test.cpp.

#include "harness.hpp"

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

namespace {

using namespace harness;

const std::string SMALL_PARTS = R"({"part_size":102400,"multipart_threshold":102400,"concurrency":3})";

void test_transfer(const Server &server) {
    wantu::Client client(AK, SK, nullptr, server.url(), server.url());
    int status = 0;

    // From memory, in parallel parts, with byte-level progress.
    std::string body = pattern(1024 * 1024 + 3, 41);
    std::uint64_t last_sent = 0, calls = 0;
    bool monotonic = true, total_known = true;
    wantu::TransferArgs args;
    args.options_json = SMALL_PARTS;
    args.progress = [&](std::uint64_t sent, std::optional<std::uint64_t> total) {
        monotonic = monotonic && sent >= last_sent;
        total_known = total_known && total == body.size();
        last_sent = sent;
        ++calls;
        return false;
    };
    auto r = client.transfer_content(POLICY, "/tr", "mem.bin", body, args);
    CHECK(r.ok() && r.raw("multipart") == "true", "transfer_content: " + r.json());
    CHECK(monotonic && total_known && calls > 0 && last_sent == body.size(), "progress");
    CHECK(http_get(server.port(), "/files/cppns/tr/mem.bin", &status) == body, "mem byte-exact");

    // From a file.
    auto path = server.dir().parent_path() / (server.dir().filename().string() + ".src");
    std::ofstream(path, std::ios::binary).write(body.data(), static_cast<std::streamsize>(body.size()));
    r = client.transfer_file(POLICY, "/tr", "file.bin", path.string(), {{}, {}, SMALL_PARTS, {}, nullptr});
    CHECK(r.ok(), "transfer_file: " + r.json());
    CHECK(http_get(server.port(), "/files/cppns/tr/file.bin", &status) == body, "file byte-exact");
    std::filesystem::remove(path);

    // From a stream of unknown length.
    std::istringstream in(body.substr(0, 300000));
    wantu::TransferArgs stream_args;
    stream_args.options_json = SMALL_PARTS;
    bool saw_unknown = false;
    stream_args.progress = [&](std::uint64_t, std::optional<std::uint64_t> total) {
        saw_unknown = saw_unknown || !total;
        return false;
    };
    r = client.transfer_stream(POLICY, "/tr", "stream.bin", in, stream_args);
    CHECK(r.ok(), "transfer_stream: " + r.json());
    CHECK(saw_unknown, "a stream's total is unknown at first");
    CHECK(http_get(server.port(), "/files/cppns/tr/stream.bin", &status) == body.substr(0, 300000),
          "stream byte-exact");

    // Progress returning true cancels.
    args.progress = [](std::uint64_t, std::optional<std::uint64_t>) { return true; };
    r = client.transfer_content(POLICY, "/tr", "cancelled.bin", body, args);
    CHECK(r.code() == 0 && r.error() == "Cancelled", "progress cancel: " + r.json());

    // A Cancel handle triggered from another thread.
    wantu::Cancel cancel;
    std::string large = pattern(8 * 1024 * 1024, 42);
    std::atomic<bool> started{false};
    wantu::TransferArgs cancel_args;
    cancel_args.options_json = R"({"part_size":102400,"concurrency":1})";
    cancel_args.cancel = &cancel;
    cancel_args.progress = [&](std::uint64_t, std::optional<std::uint64_t>) {
        started = true;
        return false;
    };
    std::thread canceller([&] {
        while (!started) std::this_thread::yield();
        cancel.trigger();
    });
    r = client.transfer_content(POLICY, "/tr", "thread-cancel.bin", large, cancel_args);
    canceller.join();
    CHECK(cancel.triggered(), "the handle is triggered");
    CHECK(r.error() == "Cancelled", "cancel from another thread: " + r.json());

    // An exception in the progress callback stops the upload and comes back.
    args.progress = [](std::uint64_t, std::optional<std::uint64_t>) -> bool {
        throw std::runtime_error("from the callback");
    };
    bool rethrown = false;
    try {
        client.transfer_content(POLICY, "/tr", "throw.bin", body, args);
    } catch (const std::runtime_error &e) {
        rethrown = std::string(e.what()) == "from the callback";
    }
    CHECK(rethrown, "callback exception rethrown after the call");

    // Bad arguments are results.
    r = client.transfer_content(POLICY, "/tr", "x", "x", {{}, {}, R"({"nope":1})", {}, nullptr});
    CHECK(r.error() == "InvalidArgument", r.json());
    r = client.transfer_file(POLICY, "/tr", "x", std::string("/tmp/\0x", 7));
    CHECK(r.error() == "InvalidArgument" && r.message().find("file_path") != std::string::npos, r.json());
}

void test_manage(const Server &server) {
    wantu::Client client(AK, SK, nullptr, server.url(), server.url());
    CHECK(client.upload_content(POLICY, "/mg", "a.txt", "hello").ok(), "upload");
    CHECK(client.file_exists("cppns", "/mg", "a.txt").raw("exist") == "true", "exists");
    CHECK(client.file_exists("cppns", "/mg", "b.txt").raw("exist") == "false", "not exists");
    auto got = client.file_get("cppns", "/mg", "a.txt");
    CHECK(got.ok() && got.raw("size") == "5", got.json());
    auto moved = client.file_rename("cppns", "/mg", "a.txt", nullptr, "b.txt");
    CHECK(moved.ok() && moved.get("name") == "b.txt", moved.json());
    auto list = client.file_list("cppns", "/mg");
    CHECK(list.ok() && list.raw("total_count") == "1", list.json());
    CHECK(client.file_list_all("cppns", "/mg", 10).raw("truncated") == "false", "list_all");
    CHECK(client.file_list("cppns", "/mg", 0).error() == "InvalidArgument", "page 0");
    CHECK(client.file_delete("cppns", "/mg", "b.txt").ok(), "delete");
    CHECK(client.file_get("cppns", "/mg", "b.txt").code() == 404, "gone");
    CHECK(client.dir_create("cppns", "/mg/x/y").ok(), "dir_create");
    CHECK(client.dir_create("cppns", "/mg/x/y").error() == "NameDuplicated", "dup");
    CHECK(client.dir_exists("cppns", "/mg/x").raw("exist") == "true", "dir_exists");
    CHECK(client.dir_list("cppns", "/mg/x").raw("total_count") == "1", "dir_list");
    CHECK(client.dir_list_all("cppns", "/mg").ok(), "dir_list_all");
    CHECK(client.dir_delete("cppns", "/mg/x").error() == "DirNotEmpty", "not empty");
    CHECK(client.dir_delete("cppns", "/mg/x/y").ok(), "dir_delete");
    auto rid = wantu::Client::resource_id("demo", "/test", "test.jpg");
    CHECK(rid.get("resource_id") == "WyJkZW1vIiwiL3Rlc3QiLCJ0ZXN0LmpwZyJd", rid.json());
    auto pts = client.call([](wantu_client *c) { return wantu_pts_get(c, "id"); });
    CHECK(pts.code() == 501 && pts.error() == "UnsupportedOperation", pts.json());
}

} // namespace

int main() {
    try {
        Server server;
        test_transfer(server);
        test_manage(server);
    } catch (const std::exception &e) {
        std::cerr << "FAIL: unexpected exception: " << e.what() << "\n";
        return 1;
    }
    if (failures) {
        std::cerr << failures << " check(s) failed\n";
        return 1;
    }
    std::cout << "wantu.hpp transfers and management: all checks passed\n";
    return 0;
}
