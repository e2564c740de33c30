/**
 * Line protocol shaped like Telegraf's system inputs (cpu, mem, net, diskio, disk), every 10 s for
 * 10 minutes from T0 on three hosts: server-b stops reporting for two minutes (a gap for fill()),
 * server-c's network counter resets (negative differences for the non_negative_ functions), disk
 * is sampled once a minute, and `probe` has points just before T0 (for the interval that
 * derivative() reads before the WHERE lower bound), and `system` is hourly over a daylight saving
 * change (for tz()). Values are deterministic, so Arc and InfluxDB
 * hold exactly the same points.
 */
export const TELEGRAF_T0 = 1_700_000_000; // seconds
export const TELEGRAF_HOSTS = ['server-a', 'server-b', 'server-c'] as const;
const POINTS_PER_HOST = 60;
const STEP_SECONDS = 10;
/** 2023-10-26T00:00:00Z, and six days of hourly points from there. */
export const SYSTEM_START = 1_698_278_400;
const SYSTEM_HOURS = 144;

export interface TelegrafData {
  readonly lines: string;
  /** Points per measurement, to wait for them after a flush. */
  readonly counts: Readonly<Record<string, number>>;
}

export function telegrafLines(): TelegrafData {
  const lines: string[] = [];
  const counts: Record<string, number> = {};
  const add = (measurement: string, rest: string): void => {
    lines.push(`${measurement},${rest}`);
    counts[measurement] = (counts[measurement] ?? 0) + 1;
  };
  TELEGRAF_HOSTS.forEach((host, h) => {
    let received = 1_000_000 * (h + 1);
    let sent = 500_000 * (h + 1);
    let reads = 100 * (h + 1);
    for (let i = 0; i < POINTS_PER_HOST; i++) {
      const time = TELEGRAF_T0 + i * STEP_SECONDS;
      if (host === 'server-b' && i >= 20 && i < 32) continue;
      const idle = 50 + ((i * 37 + h * 11) % 45) + (i % 4) * 0.25;
      const user = 100 - idle - 3.5;
      add('cpu', `cpu=cpu-total,host=${host} usage_idle=${idle},usage_user=${user},usage_system=3.5 ${time}`);
      const total = 8_000_000_000 + h * 1_000_000_000;
      const used = 2_000_000_000 + ((i * 7919 + h * 104_729) % 1000) * 1_000_000;
      add('mem', `host=${host} total=${total}i,used=${used}i,available=${total - used}i,used_percent=${(used / total) * 100} ${time}`);
      received += 1000 + ((i * 13 + h) % 7) * 100;
      sent += 500 + ((i * 17 + h) % 5) * 50;
      if (host === 'server-c' && i === 40) received = 5000;
      add('net', `host=${host},interface=eth0 bytes_recv=${received}i,bytes_sent=${sent}i ${time}`);
      reads += i % 3;
      add('diskio', `host=${host},name=sda reads=${reads}i ${time}`);
      if (i % 6 === 0) {
        const size = total * 10;
        add('disk', `fstype=ext4,host=${host},path=/ used=${used * 5}i,total=${size}i,free=${size - used * 5}i,used_percent=${((used * 5) / size) * 100} ${time}`);
      }
    }
  });
  for (const [offset, value] of [[-45, 1], [-15, 100], [1, 5], [20, 7], [40, 30]] as const) add('probe', `host=p v=${value} ${TELEGRAF_T0 + offset}`);
  // Hourly across Europe's 2023 change from summer time (2023-10-29T01:00:00Z), for tz().
  for (let hour = 0; hour < SYSTEM_HOURS; hour++) {
    add('system', `host=server-a load1=${(hour % 7) * 0.5},uptime=${hour * 3600}i ${SYSTEM_START + hour * 3600}`);
  }
  return { lines: lines.join('\n'), counts };
}
