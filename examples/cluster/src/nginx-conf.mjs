/**
 * The nginx configuration of the cluster: one upstream of Cimmeria nodes.
 * Every directive that matters for zero-downtime restarts is commented; the
 * same lines belong in a production configuration (see ../nginx.conf).
 *
 * @param {{ port: number, nodePorts: number[], dir: string }} options
 *   `dir` holds nginx's logs, pid file and temp folders.
 * @returns {string}
 */
export function nginxConf({ port, nodePorts, dir }) {
  const servers = nodePorts
    // A node that refuses a connection or times out is skipped for 2 s
    // (passive health check), and the request goes to the next one.
    .map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`)
    .join('\n');
  return `worker_processes 1;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 1024; }

http {
  log_format cluster '$request_method $uri $status $upstream_addr $upstream_status '
                     '$upstream_bytes_received $body_bytes_sent $request_time';
  access_log ${dir}/access.log cluster;
  client_body_temp_path ${dir}/tmp/client_body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;

  upstream cimmeria {
${servers}
    # No upstream keepalive: each request has its own connection, so a node
    # that stops accepting is simply skipped, and no pooled connection can be
    # closed under a request that already sent part of its upload.
  }

  server {
    listen 127.0.0.1:${port};
    # Conan packages can be large; the nodes enforce their own limit.
    client_max_body_size 0;

    location / {
      proxy_pass http://cimmeria;
      proxy_http_version 1.1;
      # Stream uploads and downloads instead of spooling them to nginx's disk.
      proxy_request_buffering off;
      proxy_buffering off;
      # Retry on another node when a node cannot be reached. GET/HEAD/PUT/DELETE
      # are idempotent for nginx; an upload whose body was already being sent
      # is never replayed (nginx cannot), the client retries it.
      proxy_next_upstream error timeout;
      proxy_next_upstream_tries 3;
      proxy_next_upstream_timeout 10s;
      proxy_connect_timeout 2s;
      proxy_send_timeout 300s;
      proxy_read_timeout 300s;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }
}
`;
}
