/*
 * heal/sel.h - decodes a raw IPMI System Event Log record (16 bytes, IPMI
 * 2.0 section 32) into the small enum healing acts on (heal/sm.h).
 *
 * Pure: the IPMI driver (heal_mon_ipmi.c) fetches records with FreeIPMI and
 * hands the bytes here, so the decoding is unit-tested without a BMC.
 */
#ifndef HEAL_SEL_H
#define HEAL_SEL_H

#include <stddef.h>
#include <stdint.h>

#include "heal/sm.h"

#define HEAL_SEL_RECORD_SIZE 16

struct heal_sel_event {
    uint16_t record_id;
    enum heal_sel_kind kind;
    uint8_t sensor_type; /* IPMI sensor type (0x0c memory, 0x07 processor, ...) */
    uint8_t sensor_number;
    uint8_t offset; /* event data 1, low nibble */
    bool is_deassertion;
};

/* Decodes @rec (@rec_size must be HEAL_SEL_RECORD_SIZE). OEM records and
 * deassertions decode as HEAL_SEL_OTHER. NFV_E_PARSE on a short record. */
enum nfv_code heal_sel_decode(const uint8_t *rec, size_t rec_size, struct heal_sel_event *ret,
                              struct nfv_err *err);

#endif /* HEAL_SEL_H */
