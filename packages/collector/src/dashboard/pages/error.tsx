/** An error page, for any status. */
import type { Assets } from '../assets.js';
import { Document } from '../views/layout.js';

export function ErrorPage({ assets, status, message }: { assets: Assets; status: number; message: string }) {
  return (
    <Document title={`Error ${status}`} assets={assets}>
      <main id="main" class="signin">
        <h1>{status === 404 ? 'Not found' : status === 401 ? 'Signed out' : status === 403 ? 'Not allowed' : 'Something went wrong'}</h1>
        <p>{message}</p>
        <p>
          <a href="/dashboard">Back to the dashboard</a>
        </p>
      </main>
    </Document>
  );
}
