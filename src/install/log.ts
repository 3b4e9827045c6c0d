/** The run's log: each line goes to the sink (stderr) and is kept for the success/failure commands. */
export class InstallLog {
  private readonly lines: string[] = [];

  constructor(private readonly sink: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {}

  info(message: string): void {
    const line = `${new Date().toISOString()} ${message}`;
    this.lines.push(line);
    this.sink(line);
  }

  text(): string {
    return this.lines.length === 0 ? '' : `${this.lines.join('\n')}\n`;
  }
}
