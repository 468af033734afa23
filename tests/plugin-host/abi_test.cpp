// abi_test.cpp: the public header plugins/include/campaignd/plugin.h compiles as plain C99 with
// the same struct layout as in C++ (abi_c_check.c), and its inline helpers behave.
#include "plugin_host_fixture.h"

extern "C" {
size_t campaignd_abi_c_layout(size_t* out, size_t capacity);
void campaignd_abi_c_error_set(char* buffer, size_t size, const char* text);
const char* campaignd_abi_c_entry_symbol(void);
}

namespace {

TEST(PluginAbiHeader, CompilesAsPlainCWithTheSameLayoutAsCxx) {
    const std::vector<size_t> cxx{
        sizeof(campaignd_plugin_descriptor),
        offsetof(campaignd_plugin_descriptor, abi_major),
        offsetof(campaignd_plugin_descriptor, abi_minor),
        offsetof(campaignd_plugin_descriptor, struct_size),
        offsetof(campaignd_plugin_descriptor, name),
        offsetof(campaignd_plugin_descriptor, version),
        offsetof(campaignd_plugin_descriptor, description),
        offsetof(campaignd_plugin_descriptor, capabilities),
        offsetof(campaignd_plugin_descriptor, start),
        offsetof(campaignd_plugin_descriptor, stop),
        CAMPAIGND_PLUGIN_DESCRIPTOR_MIN_SIZE,
        sizeof(campaignd_host),
        offsetof(campaignd_host, struct_size),
        offsetof(campaignd_host, abi_major),
        offsetof(campaignd_host, abi_minor),
        offsetof(campaignd_host, host_ctx),
        offsetof(campaignd_host, log),
        offsetof(campaignd_host, config_get),
        CAMPAIGND_HOST_MIN_SIZE,
        sizeof(campaignd_error),
        sizeof(campaignd_log_field),
        sizeof(campaignd_status),
        CAMPAIGND_PLUGIN_ABI_MAJOR,
        CAMPAIGND_PLUGIN_ABI_MINOR,
        // 1.1
        offsetof(campaignd_host, normalize_email),
        offsetof(campaignd_host, check_header_value),
        CAMPAIGND_HOST_1_1_SIZE,
        offsetof(campaignd_plugin_descriptor, importer),
        CAMPAIGND_PLUGIN_DESCRIPTOR_1_1_SIZE,
        CAMPAIGND_ERR_CANCELLED,
        CAMPAIGND_EMAIL_BUFFER_SIZE,
        sizeof(campaignd_import_row),
        offsetof(campaignd_import_row, line),
        offsetof(campaignd_import_row, email),
        offsetof(campaignd_import_row, name),
        offsetof(campaignd_import_row, subscription),
        offsetof(campaignd_import_row, groups),
        offsetof(campaignd_import_row, group_count),
        sizeof(campaignd_import_sink),
        offsetof(campaignd_import_sink, sink_ctx),
        offsetof(campaignd_import_sink, row),
        offsetof(campaignd_import_sink, row_error),
        offsetof(campaignd_import_sink, progress),
        sizeof(campaignd_import_options),
        offsetof(campaignd_import_options, delimiter),
        offsetof(campaignd_import_options, map),
        offsetof(campaignd_import_options, map_count),
        offsetof(campaignd_import_options, max_bytes),
        sizeof(campaignd_importer),
        offsetof(campaignd_importer, import),
        /* 1.2 */
        offsetof(campaignd_plugin_descriptor, transport),
        CAMPAIGND_PLUGIN_DESCRIPTOR_1_2_SIZE,
        CAMPAIGND_ERR_AUTH,
        CAMPAIGND_ERR_TLS,
        CAMPAIGND_ERR_CONNECTION,
        CAMPAIGND_DELIVERY_SENT,
        CAMPAIGND_DELIVERY_DEFERRED,
        CAMPAIGND_DELIVERY_FAILED,
        CAMPAIGND_DELIVERY_UNKNOWN,
        sizeof(campaignd_outgoing_message),
        offsetof(campaignd_outgoing_message, token),
        offsetof(campaignd_outgoing_message, envelope_from),
        offsetof(campaignd_outgoing_message, recipient),
        offsetof(campaignd_outgoing_message, message_id),
        offsetof(campaignd_outgoing_message, data),
        offsetof(campaignd_outgoing_message, data_len),
        sizeof(campaignd_delivery_result),
        offsetof(campaignd_delivery_result, token),
        offsetof(campaignd_delivery_result, outcome),
        offsetof(campaignd_delivery_result, smtp_code),
        offsetof(campaignd_delivery_result, enhanced_status),
        offsetof(campaignd_delivery_result, text),
        sizeof(campaignd_delivery_sink),
        offsetof(campaignd_delivery_sink, sink_ctx),
        offsetof(campaignd_delivery_sink, result),
        sizeof(campaignd_transport),
        offsetof(campaignd_transport, open),
        offsetof(campaignd_transport, send),
        offsetof(campaignd_transport, close),
        /* 1.3 */
        offsetof(campaignd_plugin_descriptor, bounce_source),
        offsetof(campaignd_plugin_descriptor, reporter),
        CAMPAIGND_PLUGIN_DESCRIPTOR_1_3_SIZE,
        sizeof(campaignd_report_reason),
        offsetof(campaignd_report_reason, count),
        sizeof(campaignd_report),
        offsetof(campaignd_report, campaign_id),
        offsetof(campaignd_report, finished_at),
        offsetof(campaignd_report, in_flight),
        offsetof(campaignd_report, success_percent),
        offsetof(campaignd_report, reasons),
        offsetof(campaignd_report, failures_csv),
        offsetof(campaignd_report, failures_total),
        offsetof(campaignd_report, from),
        offsetof(campaignd_report, date),
        sizeof(campaignd_report_output),
        offsetof(campaignd_report_output, output_ctx),
        offsetof(campaignd_report_output, write),
        sizeof(campaignd_reporter),
        offsetof(campaignd_reporter, compose),
        /* 1.4 */
        offsetof(campaignd_transport, validate),
        sizeof(campaignd_bounce_source),
        offsetof(campaignd_bounce_source, fetch),
        offsetof(campaignd_bounce_source, validate),
        /* 1.5 */
        offsetof(campaignd_transport, probe),
        /* 1.6 */
        offsetof(campaignd_transport, submit),
        sizeof(campaignd_submit_sink),
        offsetof(campaignd_submit_sink, sink_ctx),
        offsetof(campaignd_submit_sink, result),
        offsetof(campaignd_submit_sink, ended),
    };
    std::vector<size_t> c(160);
    c.resize(campaignd_abi_c_layout(c.data(), c.size()));
    EXPECT_EQ(c, cxx);
    // The fixed prefix every major keeps.
    EXPECT_EQ(offsetof(campaignd_plugin_descriptor, abi_major), 0u);
    EXPECT_EQ(offsetof(campaignd_plugin_descriptor, abi_minor), 4u);
    EXPECT_EQ(offsetof(campaignd_plugin_descriptor, struct_size), 8u);
    EXPECT_EQ(offsetof(campaignd_host, struct_size), 0u);
    // 1.1 only appended: the 1.0 prefix kept its size and offsets.
    EXPECT_EQ(offsetof(campaignd_plugin_descriptor, importer), CAMPAIGND_PLUGIN_DESCRIPTOR_MIN_SIZE);
    EXPECT_EQ(offsetof(campaignd_host, normalize_email), CAMPAIGND_HOST_MIN_SIZE);
    // 1.2 only appended too: transport starts where 1.1 ended.
    EXPECT_EQ(offsetof(campaignd_plugin_descriptor, transport), CAMPAIGND_PLUGIN_DESCRIPTOR_1_1_SIZE);
    // 1.3 as well: bounce_source and reporter start where 1.2 ended.
    EXPECT_EQ(offsetof(campaignd_plugin_descriptor, bounce_source), CAMPAIGND_PLUGIN_DESCRIPTOR_1_2_SIZE);
    // 1.4 appended validate to two capability tables, after their last 1.3 function.
    EXPECT_EQ(offsetof(campaignd_transport, validate), CAMPAIGND_FIELD_END(campaignd_transport, close));
    EXPECT_EQ(offsetof(campaignd_bounce_source, validate), CAMPAIGND_FIELD_END(campaignd_bounce_source, fetch));
    // 1.5 appended probe to the transport table, after validate.
    EXPECT_EQ(offsetof(campaignd_transport, probe), CAMPAIGND_FIELD_END(campaignd_transport, validate));
    // 1.6 appended submit to the transport table, after probe.
    EXPECT_EQ(offsetof(campaignd_transport, submit), CAMPAIGND_FIELD_END(campaignd_transport, probe));
    EXPECT_EQ(CAMPAIGND_PLUGIN_ABI_MINOR, 6);
    EXPECT_STREQ(campaignd_abi_c_entry_symbol(), "campaignd_plugin_entry_v1");
}

TEST(PluginAbiHeader, ErrorSetIsBoundedAndTerminated) {
    char buffer[8];
    std::memset(buffer, 'Z', sizeof buffer);
    campaignd_abi_c_error_set(buffer, sizeof buffer, "a long message");
    EXPECT_STREQ(buffer, "a long ");
    campaignd_abi_c_error_set(buffer, sizeof buffer, "ok");
    EXPECT_STREQ(buffer, "ok");
    campaignd_abi_c_error_set(nullptr, 0, "ignored");  // must not crash
}

}  // namespace
