"""A Kubernetes API emulator for the cluster backend's contract tests (PyPI kmock 0.8):
prints its URL, then serves until killed. Jobs never run here: tests play the kubelet
by writing pods themselves."""
import asyncio, sys, kmock

async def main():
    emu = kmock.KubernetesEmulator()
    for r in ['batch/v1/jobs', 'v1/pods', 'v1/secrets', 'v1/configmaps', 'v1/persistentvolumeclaims']:
        emu.resources[r] = {}
    async with kmock.Server(emu) as srv:
        print(srv.url, flush=True)
        await asyncio.Event().wait()

asyncio.run(main())
