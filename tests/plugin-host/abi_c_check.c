/* abi_c_check.c: proves plugin.h is plain C. This file is compiled as C99 with -Wpedantic
 * -Werror and includes nothing else; it reports the layout the C compiler sees so the C++ test
 * can compare it with its own, and exercises the header's inline helper from C. */
#include <campaignd/plugin.h>

size_t campaignd_abi_c_layout(size_t *out, size_t capacity) {
    const size_t values[] = {
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
        /* 1.1 */
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
    size_t i;
    const size_t count = sizeof values / sizeof values[0];
    for (i = 0; i < count && i < capacity; ++i) out[i] = values[i];
    return count;
}

void campaignd_abi_c_error_set(char *buffer, size_t size, const char *text) {
    campaignd_error err;
    err.message = buffer;
    err.message_size = size;
    campaignd_error_set(&err, text);
}

const char *campaignd_abi_c_entry_symbol(void) { return CAMPAIGND_PLUGIN_ENTRY_SYMBOL; }
