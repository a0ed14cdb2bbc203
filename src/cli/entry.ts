import { main } from './main';

// A reader that stops early (`split-studio gallery list | head -1`) closes the pipe: the rest
// of the output has nowhere to go and nobody to read an error, so end quietly instead of
// dying on an unhandled 'error' event with a stack trace. The same for stderr (`2>&1 | head`).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
