# Sidekiq end to end: push jobs, wait for a running sidekiq to end them,
# check each. Usage: REDIS_URL=... ruby sidekiq_e2e.rb N
require_relative "e2e"

n = Integer(ARGV[0])
Sidekiq.redis { |r| r.del("e2e:sums", "e2e:flaky", "e2e:flaky:done") }
n.times { |i| AddJob.perform_async(i, i) }
FlakyJob.perform_async
FailJob.perform_async
AddJob.perform_in(1, 20, 22)
AddJob.set(queue: "other").perform_async(100, 1)

deadline = Time.now + 60
loop do
  sums = Sidekiq.redis { |r| r.hlen("e2e:sums") }
  done = Sidekiq.redis { |r| r.get("e2e:flaky:done") }
  dead = Sidekiq::DeadSet.new.size
  break if sums == n + 2 && done && dead == 1
  if Time.now > deadline
    puts "timed out: #{sums} of #{n + 2} sums, flaky done #{done.inspect}, #{dead} dead"
    exit 1
  end
  sleep 0.1
end

problems = []
sums = Sidekiq.redis { |r| r.hgetall("e2e:sums") }
n.times { |i| problems << "#{i}+#{i} = #{sums["#{i}+#{i}"].inspect}" unless sums["#{i}+#{i}"] == (2 * i).to_s }
problems << "20+22 = #{sums["20+22"].inspect}" unless sums["20+22"] == "42"
problems << "100+1 = #{sums["100+1"].inspect}" unless sums["100+1"] == "101"
flaky = Sidekiq.redis { |r| r.get("e2e:flaky") }
problems << "the flaky job ran #{flaky} times, want 3" unless flaky == "3"
dead = Sidekiq::DeadSet.new.first
problems << "the dead job: #{dead&.klass} #{dead&.item&.fetch("error_message", nil)}" unless dead&.klass == "FailJob" && dead.item["error_message"] == "boom"
problems << "#{Sidekiq::RetrySet.new.size} jobs left to retry" unless Sidekiq::RetrySet.new.size.zero?
problems << "#{Sidekiq::ScheduledSet.new.size} jobs left scheduled" unless Sidekiq::ScheduledSet.new.size.zero?
%w[default other].each do |q|
  size = Sidekiq::Queue.new(q).size
  problems << "#{size} jobs left in queue #{q}" unless size.zero?
end
# Sidekiq's heartbeat adds the processed count every few seconds: wait
# for it, within the deadline.
processed = Sidekiq::Stats.new.processed
while processed < n + 4 && Time.now < deadline
  sleep 0.2
  processed = Sidekiq::Stats.new.processed
end
problems << "Sidekiq counts #{processed} processed jobs, want at least #{n + 4}" if processed < n + 4
unless problems.empty?
  puts problems
  exit 1
end
puts "ok #{n + 4}"
