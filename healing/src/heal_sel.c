/*
 * heal_sel.c - SEL record decoding (heal/sel.h).
 *
 * Layout of a system event record (record type 0x02): bytes 0-1 record id
 * (LSB first), 2 record type, 3-6 timestamp, 7-8 generator id, 9 EvM
 * revision, 10 sensor type, 11 sensor number, 12 event dir (bit 7, 1 =
 * deassertion) and event/reading type (bits 0-6), 13-15 event data 1-3 whose
 * first low nibble is the offset. The offsets below are IPMI 2.0 table 42-3
 * (sensor-specific, event type 0x6f) and 42-2 (threshold, event type 0x01).
 */
#include "heal/sel.h"

#define SEL_TYPE_SYSTEM     0x02
#define EVT_THRESHOLD       0x01
#define EVT_SENSOR_SPECIFIC 0x6f

#define ST_TEMPERATURE  0x01
#define ST_PROCESSOR    0x07
#define ST_POWER_SUPPLY 0x08
#define ST_MEMORY       0x0c
#define ST_WATCHDOG_1   0x11
#define ST_WATCHDOG_2   0x23

static enum heal_sel_kind classify(uint8_t sensor_type, uint8_t event_type, uint8_t offset)
{
    if (event_type == EVT_THRESHOLD) {
        /* Upper non-recoverable going high: the board is about to trip. */
        if (sensor_type == ST_TEMPERATURE && offset == 0x0b)
            return HEAL_SEL_THERMAL_TRIP;
        return HEAL_SEL_OTHER;
    }
    if (event_type != EVT_SENSOR_SPECIFIC)
        return HEAL_SEL_OTHER;
    switch (sensor_type) {
    case ST_MEMORY:
        /* 0x01 uncorrectable ECC and 0x02 parity error mean lost data;
         * 0x00 (correctable) and 0x05 (correctable logging limit) do not. */
        return offset == 0x01 || offset == 0x02 ? HEAL_SEL_MEM_UECC : HEAL_SEL_OTHER;
    case ST_PROCESSOR:
        if (offset == 0x00)
            return HEAL_SEL_PROC_IERR;
        if (offset == 0x01)
            return HEAL_SEL_THERMAL_TRIP;
        return HEAL_SEL_OTHER;
    case ST_POWER_SUPPLY:
        /* 0x01 failure detected, 0x03 AC lost / input lost. */
        return offset == 0x01 || offset == 0x03 ? HEAL_SEL_PSU_FAILURE : HEAL_SEL_OTHER;
    case ST_WATCHDOG_2:
        /* 0x00 timer expired, 0x01 hard reset, 0x02 power down, 0x03 power cycle. */
        return offset <= 0x03 ? HEAL_SEL_WATCHDOG : HEAL_SEL_OTHER;
    case ST_WATCHDOG_1:
        return HEAL_SEL_WATCHDOG;
    default:
        return HEAL_SEL_OTHER;
    }
}

enum nfv_code heal_sel_decode(const uint8_t *rec, size_t rec_size, struct heal_sel_event *ret,
                              struct nfv_err *err)
{
    if (!rec || rec_size < HEAL_SEL_RECORD_SIZE)
        return NFV_ERR(err, NFV_E_PARSE, "SEL record: %zu bytes, want %d", rec_size,
                       HEAL_SEL_RECORD_SIZE);
    struct heal_sel_event ev = {.record_id = (uint16_t)(rec[0] | rec[1] << 8),
                                .kind = HEAL_SEL_OTHER};
    if (rec[2] == SEL_TYPE_SYSTEM) {
        ev.sensor_type = rec[10];
        ev.sensor_number = rec[11];
        ev.is_deassertion = (rec[12] & 0x80) != 0;
        ev.offset = rec[13] & 0x0f;
        if (!ev.is_deassertion)
            ev.kind = classify(ev.sensor_type, rec[12] & 0x7f, ev.offset);
    }
    *ret = ev;
    return NFV_OK;
}
