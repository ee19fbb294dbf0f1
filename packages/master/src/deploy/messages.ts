/** What `master deploy` says when it refuses an application's files (exit 2). */
export const deployMessages = {
  badLink: (source: string, entry: string, problem: string) =>
    `${source}: ${entry} ${problem}; nothing deployed (make the link relative and inside the application, or replace it with the file)`,
  specialFile: (source: string, entry: string) => `${source}: ${entry} is not a regular file, directory or symbolic link; nothing deployed`,
};
