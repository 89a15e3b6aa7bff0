/** What the check found: problems fail the run, notes are only printed. */
export const problems: string[] = [];
export const notes: string[] = [];

export const fail = (where: string, message: string) => problems.push(`${where}: ${message}`);
