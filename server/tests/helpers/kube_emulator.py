"""A Kubernetes API emulator for the cluster backend's contract tests (PyPI kmock 0.8):
prints its URL, then serves until killed. Jobs never run here: tests play the kubelet
by writing pods themselves.

On top of kmock's API objects it plays the parts of a kubelet a test can't:
- `POST /_emulator/volumes/<claim>` (body: a local directory) says where a PVC's
  files are; a pod mounting that claim at /workspace sees that directory (or its
  subPath / subPathExpr within it).
- `pods/<name>/exec` speaks the WebSocket channel protocol (v5, v4) kube-rs uses: the
  command runs here with /workspace mapped onto the pod's volume; stdin, stdout,
  stderr and the exit status travel on channels 0-3 as the API server sends them.
- A reader pod (label fabrik.sh/volume-of) is Running as soon as it is created.
- `POST /_emulator/logs/<pod>` (body: a local file) is what `pods/<pod>/log` serves.
"""
import asyncio, json, os, re, sys
import aiohttp, aiohttp.web, kmock
from kmock._internal import enums

EXEC = re.compile(r'^/api/v1/namespaces/([^/]+)/pods/([^/]+)/exec$')
PODS = re.compile(r'^/api/v1/namespaces/([^/]+)/pods$')
VOLUME = re.compile(r'^/_emulator/volumes/([^/]+)$')
LOG = re.compile(r'^/api/v1/namespaces/([^/]+)/pods/([^/]+)/log$')
LOG_FILE = re.compile(r'^/_emulator/logs/([^/]+)$')


class Emulator(kmock.KubernetesEmulator):
    volumes: dict = {}
    logs: dict = {}
    version: int = 0
    url: str = ''

    async def __call__(self, raw):
        path = raw.path
        if m := VOLUME.match(path):
            self.volumes[m.group(1)] = (await raw.text()).strip()
            return aiohttp.web.Response(status=204)
        if m := LOG_FILE.match(path):
            self.logs[m.group(1)] = (await raw.text()).strip()
            return aiohttp.web.Response(status=204)
        if (m := LOG.match(path)) and m.group(2) in self.logs:
            with open(self.logs[m.group(2)], 'rb') as f:
                return aiohttp.web.Response(body=f.read(), content_type='text/plain')
        if m := EXEC.match(path):
            return await self.exec(raw, m.group(1), m.group(2))
        # kmock keeps every request and matches each new one against all of them
        # (quadratic): the emulator needs none of the history.
        self._requests.clear()
        try:
            response = await super().__call__(raw)
        except Exception as e:  # kmock raises API errors (409, 404) outside its own context
            return await self._render_error(e)
        if raw.method == 'POST' and PODS.match(path) and response.status < 300:
            body = json.loads(await raw.read() or b'{}')
            if 'fabrik.sh/volume-of' in (body.get('metadata', {}).get('labels') or {}):
                asyncio.get_running_loop().create_task(self.start(PODS.match(path).group(1), body['metadata']['name']))
        return response

    async def _handle(self, request):
        # As an API server does: every write gives the object a new resourceVersion, so
        # watch events carry one and a client's watch resumes instead of re-listing.
        if request.resource is not None and isinstance(request.data, dict) \
                and (request.action in (enums.action.CREATE, enums.action.UPDATE)
                     or str(request.method).upper().endswith('PUT')):
            self.version += 1
            request.data.setdefault('metadata', {})['resourceVersion'] = str(self.version)
        if str(request.method).upper().endswith('PUT') and request.resource is not None and request.name:
            return await self.replace(request)
        return await super()._handle(request)

    async def replace(self, request):
        # kmock has no PUT: the object is replaced whole, as `kubectl replace` does.
        key = (request.resource, request.namespace, request.name)
        async with self._lock:
            if key not in self._objects or self._objects[key].deleted:
                return status_response(404, f'{request.name} not found')
            obj = self._objects[key]
            obj.delete()
            obj.create(request.data)
            raw = obj.last.raw
            await self._buses[request.resource].put({'type': 'MODIFIED', 'object': raw})
        return aiohttp.web.json_response(raw)

    async def start(self, ns, name):
        async with aiohttp.ClientSession() as s:
            await s.patch(f'{self.url}/api/v1/namespaces/{ns}/pods/{name}',
                          headers={'Content-Type': 'application/merge-patch+json'},
                          data=json.dumps({'status': {'phase': 'Running', 'containerStatuses': [
                              {'name': 'fabrik', 'ready': True, 'restartCount': 0, 'image': 'x', 'imageID': '',
                               'state': {'running': {}}}]}}))

    async def exec(self, raw, ns, name):
        async with aiohttp.ClientSession() as s:
            async with s.get(f'{self.url}/api/v1/namespaces/{ns}/pods/{name}') as r:
                if r.status != 200:
                    return status_response(404, f'pods "{name}" not found')
                pod = await r.json()
        if (pod.get('status') or {}).get('phase') != 'Running':
            return status_response(400, f'pod {name} is not running')
        root = self.workspace(pod)
        if root is None:
            return status_response(400, f'pod {name} mounts no volume the emulator knows')
        command = [a.replace('/workspace', root) for a in raw.query.getall('command')]
        ws = aiohttp.web.WebSocketResponse(protocols=('v5.channel.k8s.io', 'v4.channel.k8s.io'))
        await ws.prepare(raw)
        with_stdin = raw.query.get('stdin') == 'true'
        proc = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.PIPE if with_stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)

        async def pump(stream, channel):
            while chunk := await stream.read(65536):
                await ws.send_bytes(bytes([channel]) + chunk)

        async def feed():
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.BINARY or not with_stdin:
                    continue
                data = msg.data
                if data[:1] == b'\x00':
                    proc.stdin.write(data[1:])
                    await proc.stdin.drain()
                elif data[:2] == b'\xff\x00':
                    proc.stdin.close()

        feeder = asyncio.get_running_loop().create_task(feed())
        await asyncio.gather(pump(proc.stdout, 1), pump(proc.stderr, 2))
        code = await proc.wait()
        feeder.cancel()
        if code == 0:
            status = {'metadata': {}, 'status': 'Success'}
        else:
            status = {'metadata': {}, 'status': 'Failure', 'reason': 'NonZeroExitCode',
                      'message': f'command terminated with non-zero exit code: {code}',
                      'details': {'causes': [{'reason': 'ExitCode', 'message': str(code)}]}}
        await ws.send_bytes(b'\x03' + json.dumps(status).encode())
        await ws.close()
        return ws


    def workspace(self, pod):
        """The local directory a pod sees at /workspace: its claim's, and within it
        the mount's subPath (or subPathExpr, `$(VAR)` read from the container's env)."""
        claims = {v['name']: v['persistentVolumeClaim']['claimName'] for v in pod['spec'].get('volumes', [])
                  if v.get('persistentVolumeClaim')}
        for c in pod['spec'].get('containers', []):
            for m in c.get('volumeMounts') or []:
                claim = claims.get(m['name'])
                if m.get('mountPath') == '/workspace' and claim in self.volumes:
                    sub = m.get('subPath') or expand(m.get('subPathExpr', ''), c, pod)
                    return os.path.join(self.volumes[claim], sub)
        return next((self.volumes[c] for c in claims.values() if c in self.volumes), None)


def expand(text, container, pod):
    """`$(VAR)` as the kubelet expands it, from env values and labels (fieldRef)."""
    labels = pod['metadata'].get('labels') or {}
    env = {}
    for e in container.get('env') or []:
        field = ((e.get('valueFrom') or {}).get('fieldRef') or {}).get('fieldPath', '')
        if m := re.match(r"^metadata\.labels\['(.+)'\]$", field):
            env[e['name']] = labels.get(m.group(1), '')
        elif 'value' in e:
            env[e['name']] = e['value']
    return re.sub(r'\$\((\w+)\)', lambda m: env.get(m.group(1), m.group(0)), text)


def status_response(code, message):
    return aiohttp.web.json_response(
        {'kind': 'Status', 'apiVersion': 'v1', 'status': 'Failure', 'message': message, 'code': code},
        status=code)


async def main():
    emu = Emulator()
    for r in ['batch/v1/jobs', 'batch/v1/cronjobs', 'v1/pods', 'v1/secrets', 'v1/configmaps', 'v1/persistentvolumeclaims',
              'v1/nodes', 'storage.k8s.io/v1/storageclasses', 'metrics.k8s.io/v1beta1/nodes']:
        emu.resources[r] = {}
    async with kmock.Server(emu) as srv:
        emu.url = str(srv.url).rstrip('/')
        print(emu.url, flush=True)
        await asyncio.Event().wait()

asyncio.run(main())
