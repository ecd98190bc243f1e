/* Modbus/TCP server on Debian's libmodbus (3.1.6): it has no FC43 (answers exception 01, like an old
   device) but answers FC17 report server id. One client at a time.
   build: gcc -O2 -o lmb_server lmb_server.c $(pkg-config --cflags --libs libmodbus)
   usage: lmb_server IP PORT */
#include <errno.h>
#include <modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s IP PORT\n", argv[0]); return 2; }
    modbus_t *ctx = modbus_new_tcp(argv[1], atoi(argv[2]));
    modbus_mapping_t *map = modbus_mapping_new(100, 100, 100, 100);
    if (ctx == NULL || map == NULL) { fprintf(stderr, "libmodbus: %s\n", modbus_strerror(errno)); return 1; }
    for (int i = 0; i < 100; i++) { map->tab_registers[i] = 500 + i; map->tab_input_registers[i] = 700 + i; }
    int sock = modbus_tcp_listen(ctx, 1);
    if (sock < 0) { fprintf(stderr, "listen: %s\n", modbus_strerror(errno)); return 1; }
    printf("libmodbus %s server on %s:%s\n", LIBMODBUS_VERSION_STRING, argv[1], argv[2]);
    fflush(stdout);
    for (;;) {
        if (modbus_tcp_accept(ctx, &sock) < 0) continue;
        for (;;) {
            uint8_t q[MODBUS_TCP_MAX_ADU_LENGTH];
            int rc = modbus_receive(ctx, q);
            if (rc > 0) modbus_reply(ctx, q, rc, map);
            else if (rc == -1) break; /* client closed or reset */
        }
        close(modbus_get_socket(ctx));
    }
}
