// Bundles the app and @pruuv/pixel into one
// browser script, dist/app.js.
import { nodeResolve } from '@rollup/plugin-node-resolve';
import typescript from '@rollup/plugin-typescript';

export default {
  input: 'src/main.ts',
  plugins: [nodeResolve({ browser: true }), typescript({ tsconfig: './tsconfig.json' })],
  output: { file: 'dist/app.js', format: 'iife' },
};
