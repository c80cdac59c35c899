export async function importCommand(_args: string[]): Promise<number> {
  throw new Error('not yet');
}
