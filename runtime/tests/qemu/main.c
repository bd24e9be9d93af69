/* main.c - runs the C tests (tests/test_kdc.c, compiled with -Dmain=kdc_test_main) on a QEMU
 * Cortex-M board: librdimon's semihosting (stdio, fopen of the regression inputs relative to
 * QEMU's working directory) needs its handles opened first. The startup code
 * (samples/firmware/startup.c) exits QEMU with the returned status. */
extern void initialise_monitor_handles(void);
int kdc_test_main(void);

int main(void)
{
    initialise_monitor_handles();
    return kdc_test_main();
}
