// How a headless command ends: exit 0 when its main resolves, else its error's message on stderr and exit 1.
export function runMain(main: () => Promise<unknown>): void {
  main()
    .then(() => process.exit(0))
    .catch((e: unknown) => {
      console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    });
}
